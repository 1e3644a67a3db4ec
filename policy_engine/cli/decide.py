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
            help='Read the input from a file. A JSON object with "content" or "messages"'
            " (a POST /decide body, e.g. examples/requests/sensitive.json) is the whole"
            " request, its context included; any other file (plain text, other JSON) is the"
            " content. Standard input is read the same way.",
        ),
        click.option(
            "--messages",
            is_flag=True,
            help="The input is a JSON list of chat messages (not needed for a request file).",
        ),
        click.option(
            "--context",
            "context_json",
            default=None,
            help='Request context as JSON, e.g. \'{"tenant": "acme"}\'; with a request file,'
            " these keys replace the file's.",
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

    --file (or stdin) may hold a whole request, as POST /decide takes it: a JSON object with
    "content" or "messages" and "context" (examples/requests/*.json). The decision is
    audited exactly as POST /decide would audit it.
    """
    decision, _ = decide_once(read_decide_request(text, file_, messages, context_json))
    click.echo(json.dumps(decision.model_dump(mode="json"), indent=2))
