"""What every ``policy-engine`` command shares: error exits, settings, progress bars."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NoReturn

import click

from policy_engine.errors import ConfigError
from policy_engine.settings import Settings, load_settings


def fail(message: str, status: int = 2) -> NoReturn:
    click.echo(f"policy-engine: error: {message}", err=True)
    sys.exit(status)


def settings_or_fail(**overrides: Any) -> Settings:
    try:
        return load_settings(**{k: v for k, v in overrides.items() if v is not None})
    except ConfigError as exc:
        fail(str(exc))


def read_decide_request(
    text: str | None, file_: Path | None, messages: bool, context_json: str | None
) -> dict[str, Any]:
    """The /decide request body the ``decide`` options describe (stdin when no content).

    A file (or standard input) holding a JSON object with ``content`` or ``messages`` is a
    whole request, as ``POST /decide`` takes it (``examples/requests/*.json``): its context
    included, ``--context`` added on top. Anything else is the content (``--messages``: a
    JSON list of chat messages); ``--text`` is always the content."""
    if text is not None and file_ is not None:
        fail("give --text or --file, not both")
    context = _context_option(context_json)
    if text is None:
        text = file_.read_text(encoding="utf-8") if file_ is not None else sys.stdin.read()
        request = request_document(text)
        if request is not None:
            if context and isinstance(request.get("context", {}), dict):
                request["context"] = {**request.get("context", {}), **context}
            return request
    body: dict[str, Any] = {"context": context}
    if messages:
        try:
            body["messages"] = json.loads(text)
        except json.JSONDecodeError as exc:
            fail(f"--messages input is not valid JSON: {exc.msg} (line {exc.lineno})")
    else:
        if not text.strip():
            fail(
                "invalid request: 'content' is empty; give --text TEXT, --file PATH or the"
                " content on standard input"
            )
        body["content"] = text
    return body


def request_document(text: str) -> dict[str, Any] | None:
    """``text`` as a whole /decide request: a JSON object with ``content`` or ``messages``;
    None for anything else (plain text, other JSON), which is content."""
    if not text.lstrip().startswith("{"):
        return None
    try:
        value = json.loads(text)
    except json.JSONDecodeError:
        return None
    if isinstance(value, dict) and ("content" in value or "messages" in value):
        return value
    return None


def _context_option(context_json: str | None) -> Any:
    if not context_json:
        return {}
    try:
        return json.loads(context_json)
    except json.JSONDecodeError as exc:
        fail(f"--context is not valid JSON: {exc.msg}")


@contextmanager
def progress_bar(
    label: str, total: int | None, *, enabled: bool | None
) -> Iterator[Callable[[int], None]]:
    """A callback ``update(done)`` drawing a bar on standard error.

    ``enabled=None`` draws it only when standard error is a terminal; output on
    standard output is never touched.
    """
    show = sys.stderr.isatty() if enabled is None else enabled
    if not show:
        yield lambda done: None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    with Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=Console(stderr=True),
        transient=False,
    ) as progress:
        task = progress.add_task(label, total=total)
        yield lambda done: progress.update(task, completed=done)
