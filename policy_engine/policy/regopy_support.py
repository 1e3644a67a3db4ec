"""What the evaluator and the test runner share about regopy (rego-cpp).

regopy reports errors as an S-expression dump of the compiler's tree, with length-prefixed
file names, byte offsets and messages. :func:`describe_errors` turns that into
``file:line:col: message`` lines. Two quirks handled here: a parse error is also printed on
stdout unless the interpreter's log level is NONE, and an evaluation error comes back as a
non-JSON "output", which regopy's ``Output`` fails to decode.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import regopy

from policy_engine.errors import PolicyLoadError

_ERROR = re.compile(rb"\(error(?:\s+(\d+):)?")
_LOCATION = re.compile(rb"\|(\d+)\|(\d+)")
_MESSAGE = re.compile(rb"\(errormsg\s+(\d+):")


@dataclass(frozen=True)
class RegoErrorEntry:
    """One error of a regopy error dump: where (if known) and what."""

    message: str
    file: str | None = None
    offset: int | None = None


def parse_errors(text: str) -> list[RegoErrorEntry]:
    """The errors in a regopy error dump, in order; empty when there are none."""
    raw = text.encode("utf-8", errors="replace")
    entries = []
    for match in _ERROR.finditer(raw):
        cursor = match.end()
        file = offset = None
        if match.group(1) is not None:
            length = int(match.group(1))
            file = raw[cursor : cursor + length].decode("utf-8", errors="replace")
            cursor += length
            location = _LOCATION.match(raw, cursor)
            if location is not None:
                offset = int(location.group(1))
        message_match = _MESSAGE.search(raw, cursor)
        if message_match is None:
            continue
        start = message_match.end()
        message = raw[start : start + int(message_match.group(1))].decode(errors="replace")
        entries.append(RegoErrorEntry(message=message, file=file, offset=offset))
    return entries


def describe_errors(text: str, sources: Mapping[str, str], base: Path | None = None) -> str:
    """``file:line:col: message`` for each error (``; ``-joined); the raw text's first line
    when nothing can be parsed. ``sources`` maps module names to their text, for positions."""
    described = []
    for entry in parse_errors(text):
        if entry.file is None:
            described.append(entry.message)
            continue
        where = str(base / entry.file) if base is not None else entry.file
        source = sources.get(entry.file)
        if source is not None and entry.offset is not None:
            line, column = _position(source, entry.offset)
            where = f"{where}:{line}:{column}"
        described.append(f"{where}: {entry.message}")
    if described:
        return "; ".join(dict.fromkeys(described))
    first_line = text.strip().splitlines()[0] if text.strip() else "unknown error"
    return first_line[:300]


def _position(source: str, offset: int) -> tuple[int, int]:
    """1-based line and column of a byte offset into ``source``."""
    prefix = source.encode("utf-8")[:offset].decode("utf-8", errors="ignore")
    line = prefix.count("\n") + 1
    column = len(prefix) - (prefix.rfind("\n") + 1) + 1
    return line, column


def new_interpreter(
    modules: Mapping[str, str], data: Mapping[str, Any], base: Path | None = None
) -> Any:
    """A quiet interpreter holding ``data`` and ``modules``.

    Raises :class:`PolicyLoadError` naming the file and position of a syntax error.
    """
    interpreter = regopy.Interpreter()
    interpreter.log_level = regopy.LogLevel.NONE
    try:
        interpreter.add_data_json(json.dumps(dict(data), ensure_ascii=False, allow_nan=False))
    except regopy.RegoError as exc:
        raise PolicyLoadError(f"policy data rejected: {describe_errors(str(exc), {})}") from None
    for name, source in modules.items():
        try:
            interpreter.add_module(name, source)
        except regopy.RegoError as exc:
            raise PolicyLoadError(describe_errors(str(exc), modules, base)) from None
    return interpreter


def build(interpreter: Any, query: str | None, entrypoints: list[str], what: str) -> Any:
    """Compile a bundle; :class:`PolicyLoadError` when that fails."""
    try:
        bundle = interpreter.build(query, entrypoints)
    except regopy.RegoError as exc:
        raise PolicyLoadError(f"{what}: {describe_errors(str(exc), {})}") from None
    if not bundle.ok():
        raise PolicyLoadError(f"{what}: the policy set does not compile")
    return bundle


@dataclass(frozen=True)
class Outcome:
    """What one query gave: a value, nothing (undefined), or an error text."""

    defined: bool
    value: Any = None
    error: str | None = None


def read_output(run: Any) -> Outcome:
    """Call ``run()`` (a regopy query) and classify its output."""
    try:
        output = run()
    except json.JSONDecodeError as exc:  # an evaluation error is not JSON
        return Outcome(defined=False, error=exc.doc)
    except regopy.RegoError as exc:
        return Outcome(defined=False, error=str(exc))
    if not output.ok():
        return Outcome(defined=False, error=str(output))
    results = output.results
    if len(results) != 1 or len(results[0].expressions) != 1:
        return Outcome(defined=False)
    return Outcome(defined=True, value=results[0].expressions[0])
