"""The ``policy-engine`` command: serve, decide, test, audit …, replay; build, lint, explain
(:mod:`policy_engine.policy_cli`)."""

from __future__ import annotations

import gc
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from policy_engine import __version__
from policy_engine.cli_audit import audit
from policy_engine.cli_replay import replay
from policy_engine.cli_support import fail as _fail
from policy_engine.cli_support import read_decide_request
from policy_engine.cli_support import settings_or_fail as _settings
from policy_engine.errors import AuditError, PolicyEngineError, RequestError
from policy_engine.keys_cli import keys as keys_group

if TYPE_CHECKING:
    from policy_engine.catalog import Catalog
    from policy_engine.models import Decision


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="policy-engine")
def main() -> None:
    """Policy-driven AI segmentation: decide which LLM endpoints may receive content."""


def freeze_loaded_objects() -> None:
    """Exempt what start-up loaded (the spaCy model, the compiled policies, the detectors:
    some 140,000 objects that live as long as the process) from the garbage collector,
    whose full passes would otherwise walk all of them every few hundred requests (about
    7 % of a worker's CPU on 2 KB prompts), and switch collection back on (``serve``
    turns it off while loading: 0.1-0.2 s of start-up). Start-up's garbage is collected
    first; objects made later are collected as usual."""
    gc.collect()
    gc.freeze()
    gc.enable()


@main.command()
@click.option("--host", default=None, help="Address to bind (PE_HOST, default 127.0.0.1).")
@click.option("--port", type=int, default=None, help="Port (PE_PORT, default 8080).")
def serve(host: str | None, port: int | None) -> None:
    """Run the HTTP service (POST /decide) on the configured settings."""
    gc.disable()  # while loading; freeze_loaded_objects() switches it back on
    import uvicorn

    from policy_engine.api.app import create_app
    from policy_engine.api.limits import RequestLimits
    from policy_engine.bootstrap import build_engine, build_reloader
    from policy_engine.keystore import service_keyring
    from policy_engine.logs import configure_logging

    settings = _settings(host=host, port=port)
    configure_logging(settings.log_format, settings.log_level)
    try:
        keyring = service_keyring(
            settings.keys_file, settings.bootstrap_keys, lambda text: click.echo(text, err=True)
        )
        engine = build_engine(settings)
    except PolicyEngineError as exc:
        _fail(str(exc))
    limits = RequestLimits(
        max_messages=settings.max_messages,
        max_nesting_depth=settings.max_nesting_depth,
        max_message_chars=settings.max_message_chars,
        strict=settings.strict_mode,
    )
    app = create_app(
        engine,
        max_body_bytes=settings.max_body_bytes,
        keyring=keyring,
        limits=limits,
        reloader=build_reloader(engine, settings),
    )
    freeze_loaded_objects()
    try:
        uvicorn.run(
            app,
            host=settings.host,
            port=settings.port,
            log_config=None,
            access_log=False,
            timeout_graceful_shutdown=30,
        )
    finally:
        engine.close()


def decide_input_options(command: Any) -> Any:
    """The content and context options of ``decide`` (shared with ``explain``)."""
    options = [
        click.option("--text", "-t", default=None, help="The content to decide on."),
        click.option(
            "--file",
            "-f",
            "file_",
            type=click.Path(exists=True, dir_okay=False, path_type=Path),
            default=None,
            help="Read the content from a file.",
        ),
        click.option("--messages", is_flag=True, help="The input is a JSON list of chat messages."),
        click.option(
            "--context",
            "context_json",
            default=None,
            help='Request context as JSON, e.g. \'{"tenant": "acme"}\'.',
        ),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def decide_once(request: dict[str, Any]) -> tuple[Decision, Catalog]:
    """Decide (and audit) one request on the configured settings; exit with a message on
    errors. Returns the decision and the catalog it was made on."""
    from policy_engine.engine import Engine
    from policy_engine.logs import configure_logging

    settings = _settings()
    configure_logging("console", "warning")
    try:
        with Engine.from_settings(settings) as engine:
            return engine.decide(request, caller="cli"), engine.catalog
    except RequestError as exc:
        _fail(f"invalid request: {exc}")
    except AuditError as exc:
        _fail(f"no decision: {exc}", status=3)
    except PolicyEngineError as exc:
        _fail(str(exc))


@main.command()
@decide_input_options
def decide(text: str | None, file_: Path | None, messages: bool, context_json: str | None) -> None:
    """Print the decision for some content as JSON (stdin when neither --text nor --file).

    The decision is audited exactly as POST /decide would audit it.
    """
    decision, _ = decide_once(read_decide_request(text, file_, messages, context_json))
    click.echo(json.dumps(decision.model_dump(mode="json"), indent=2))


@main.command("test")
@click.argument("directory", required=False, type=click.Path(path_type=Path))
def test_policies(directory: Path | None) -> None:
    """Run the Rego unit tests (*_test.rego) and YAML test cases (*_test.yaml) of a policy
    directory (default PE_POLICIES_DIR) on the configured catalog (PE_CATALOG)."""
    from policy_engine.policy_cli import run_policy_tests

    settings = _settings()
    sys.exit(
        run_policy_tests(directory if directory is not None else settings.policies_dir, settings)
    )


main.add_command(audit)
main.add_command(replay)


from policy_engine.cli_detection import detectors, scan  # noqa: E402
from policy_engine.policy_cli import policy_commands  # noqa: E402  (they use the helpers above)

for _command in policy_commands():
    main.add_command(_command)
main.add_command(keys_group)
main.add_command(detectors)
main.add_command(scan)

if __name__ == "__main__":
    main()
