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
    """The /decide request body the ``decide`` options describe (stdin when no content)."""
    if text is not None and file_ is not None:
        fail("give --text or --file, not both")
    if text is None:
        text = file_.read_text(encoding="utf-8") if file_ is not None else sys.stdin.read()
    context: Any = {}
    if context_json:
        try:
            context = json.loads(context_json)
        except json.JSONDecodeError as exc:
            fail(f"--context is not valid JSON: {exc.msg}")
    request: dict[str, Any] = {"context": context}
    if messages:
        try:
            request["messages"] = json.loads(text)
        except json.JSONDecodeError as exc:
            fail(f"--messages input is not valid JSON: {exc.msg} (line {exc.lineno})")
    else:
        if not text.strip():
            fail(
                "invalid request: 'content' is empty; give --text TEXT, --file PATH or the"
                " content on standard input"
            )
        request["content"] = text
    return request


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
