"""The ``policy-engine`` command: serve, decide, test, audit …, replay."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from policy_engine import __version__
from policy_engine.cli_audit import audit
from policy_engine.cli_replay import replay
from policy_engine.cli_support import fail as _fail
from policy_engine.cli_support import settings_or_fail as _settings
from policy_engine.errors import AuditError, PolicyEngineError, RequestError


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="policy-engine")
def main() -> None:
    """Policy-driven AI segmentation: decide which LLM endpoints may receive content."""


@main.command()
@click.option("--host", default=None, help="Address to bind (PE_HOST, default 127.0.0.1).")
@click.option("--port", type=int, default=None, help="Port (PE_PORT, default 8080).")
def serve(host: str | None, port: int | None) -> None:
    """Run the HTTP service (POST /decide) on the configured settings."""
    import uvicorn

    from policy_engine.access import KeyRing, parse_bootstrap_keys
    from policy_engine.api.app import create_app
    from policy_engine.bootstrap import build_engine
    from policy_engine.logs import configure_logging

    settings = _settings(host=host, port=port)
    configure_logging(settings.log_format, settings.log_level)
    try:
        engine = build_engine(settings)
    except PolicyEngineError as exc:
        _fail(str(exc))
    keyring = KeyRing(parse_bootstrap_keys(settings.bootstrap_keys))
    app = create_app(engine, max_body_bytes=settings.max_body_bytes, keyring=keyring)
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


@main.command()
@click.option("--text", "-t", default=None, help="The content to decide on.")
@click.option(
    "--file",
    "-f",
    "file_",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="Read the content from a file.",
)
@click.option("--messages", is_flag=True, help="The input is a JSON list of chat messages.")
@click.option(
    "--context",
    "context_json",
    default=None,
    help='Request context as JSON, e.g. \'{"tenant": "acme"}\'.',
)
def decide(text: str | None, file_: Path | None, messages: bool, context_json: str | None) -> None:
    """Print the decision for some content as JSON (stdin when neither --text nor --file).

    The decision is audited exactly as POST /decide would audit it.
    """
    from policy_engine.engine import Engine
    from policy_engine.logs import configure_logging

    if text is not None and file_ is not None:
        _fail("give --text or --file, not both")
    if text is None:
        text = file_.read_text(encoding="utf-8") if file_ is not None else sys.stdin.read()
    context: Any = {}
    if context_json:
        try:
            context = json.loads(context_json)
        except json.JSONDecodeError as exc:
            _fail(f"--context is not valid JSON: {exc.msg}")
    request: dict[str, Any] = {"context": context}
    if messages:
        try:
            request["messages"] = json.loads(text)
        except json.JSONDecodeError as exc:
            _fail(f"--messages input is not valid JSON: {exc.msg} (line {exc.lineno})")
    else:
        request["content"] = text
    settings = _settings()
    configure_logging("console", "warning")
    try:
        with Engine.from_settings(settings) as engine:
            decision = engine.decide(request, caller="cli")
    except RequestError as exc:
        _fail(f"invalid request: {exc}")
    except AuditError as exc:
        _fail(f"no decision: {exc}", status=3)
    except PolicyEngineError as exc:
        _fail(str(exc))
    click.echo(json.dumps(decision.model_dump(mode="json"), indent=2))


@main.command("test")
@click.argument("directory", required=False, type=click.Path(path_type=Path))
def test_policies(directory: Path | None) -> None:
    """Run the Rego unit tests (*_test.rego) of a policy directory (default PE_POLICIES_DIR)."""
    from policy_engine.policy.rego_tests import main as run_rego_tests

    target = directory if directory is not None else _settings().policies_dir
    sys.exit(run_rego_tests([str(target)]))


main.add_command(audit)
main.add_command(replay)


if __name__ == "__main__":
    main()
