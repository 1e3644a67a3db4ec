"""What every ``policy-engine`` command shares: error exits, settings, progress bars."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
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
