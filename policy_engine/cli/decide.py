"""``policy-engine decide``: one decision on the configured settings, audited exactly as
``POST /decide`` would audit it (the options are shared with ``explain``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from policy_engine.cli.support import fail, read_decide_request, settings_or_fail
from policy_engine.errors import AuditError, PolicyEngineError, RequestError

if TYPE_CHECKING:
    from policy_engine.catalog import Catalog
    from policy_engine.models import Decision


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
    from policy_engine.bootstrap import build_engine
    from policy_engine.logs import configure_logging

    settings = settings_or_fail()
    configure_logging("console", "warning")
    try:
        with build_engine(settings) as engine:
            return engine.decide(request, caller="cli"), engine.catalog
    except RequestError as exc:
        fail(f"invalid request: {exc}")
    except AuditError as exc:
        fail(f"no decision: {exc}", status=3)
    except PolicyEngineError as exc:
        fail(str(exc))


@click.command()
@decide_input_options
def decide(text: str | None, file_: Path | None, messages: bool, context_json: str | None) -> None:
    """Print the decision for some content as JSON (stdin when neither --text nor --file).

    The decision is audited exactly as POST /decide would audit it.
    """
    decision, _ = decide_once(read_decide_request(text, file_, messages, context_json))
    click.echo(json.dumps(decision.model_dump(mode="json"), indent=2))
