"""Hyperscan databases of rewritten regexes, and :class:`Gate`, the one-regex kind.

Texts are scanned byte-wise with ASCII semantics, so only plain-ASCII texts without the
separators ``\\x1c``-``\\x1f`` (which Python counts as ``\\s`` and hyperscan does not) are
given to hyperscan (:func:`scannable`); the caller searches any other text the usual way.
Each thread scans with its own scratch space (:func:`scratch`).
"""

from __future__ import annotations

import contextlib
import threading
from functools import cache
from typing import Any

import hyperscan
import regex

from policy_engine.detection.regex_rewrite import hs_source

#: Characters of a text that Python's ``\\s`` matches and hyperscan's does not.
_UNSAFE_ASCII = "\x1c\x1d\x1e\x1f"

_HS_BASE = hyperscan.HS_FLAG_PREFILTER


def hs_flags(flags: int) -> int:
    """Hyperscan's flags for a regex compiled with the ``regex`` module's ``flags``."""
    # Byte-wise, ASCII semantics for \\w, \\d, \\s and case: texts are plain ASCII,
    # where they are Python's.
    out = _HS_BASE
    if flags & regex.IGNORECASE:
        out |= hyperscan.HS_FLAG_CASELESS
    if flags & regex.DOTALL:
        out |= hyperscan.HS_FLAG_DOTALL
    if flags & regex.MULTILINE:
        out |= hyperscan.HS_FLAG_MULTILINE
    return out


def scannable(text: str) -> bool:
    """Whether hyperscan reads ``text`` as Python does: plain ASCII without any of
    :data:`_UNSAFE_ASCII`'s characters."""
    return text.isascii() and not any(ch in text for ch in _UNSAFE_ASCII)


def compile_database(chosen: list[tuple[int, bytes, int]]) -> Any:
    """One block-mode database of ``(id, expression, flags)``; None when empty."""
    if not chosen:
        return None
    database = hyperscan.Database(mode=hyperscan.HS_MODE_BLOCK)
    database.compile(
        expressions=[source for _, source, _ in chosen],
        ids=[key for key, _, _ in chosen],
        elements=len(chosen),
        flags=[flags for _, _, flags in chosen],
    )
    return database


def compiles(source: bytes, flags: int) -> bool:
    """Whether hyperscan compiles ``source`` with ``flags``."""
    database = hyperscan.Database(mode=hyperscan.HS_MODE_BLOCK)
    try:
        database.compile(expressions=[source], ids=[0], elements=1, flags=[flags])
    except hyperscan.error:
        return False
    return True


def scratch(local: threading.local, database: Any) -> Any:
    """The calling thread's hyperscan scratch space for ``database``, kept in ``local`` (a
    scratch must not be used by two scans at once)."""
    found = getattr(local, "scratch", None)
    if found is None:
        found = local.scratch = hyperscan.Scratch(database)
    return found


class Gate:
    """Whether a regex may match a text at all, from one hyperscan pass: a cheap "is there
    anything to do" before a costly search. Plain-ASCII texts only (as the prefilter);
    for any other text, and for a regex hyperscan cannot compile, the answer is yes."""

    def __init__(self, pattern: str, flags: int) -> None:
        source = hs_source(pattern)
        single = hs_flags(flags) | hyperscan.HS_FLAG_SINGLEMATCH
        self._database: Any = None  # stays None (every text may match) if it cannot compile
        with contextlib.suppress(hyperscan.error):
            self._database = compile_database([(0, source, single)])
        self._local = threading.local()

    def may_match(self, text: str) -> bool:
        if self._database is None or not scannable(text):
            return True
        found: list[int] = []

        def on_match(key: int, start: int, end: int, flags: int, context: Any) -> bool:
            found.append(end)
            return True  # stop at the first hit

        try:
            self._database.scan(
                text.encode("ascii"),
                match_event_handler=on_match,
                scratch=scratch(self._local, self._database),
            )
        except hyperscan.error:
            if not found:
                raise
        return bool(found)


@cache
def gate(pattern: str, flags: int = 0) -> Gate:
    """The :class:`Gate` of ``pattern`` with ``flags``, built on first use and then kept."""
    return Gate(pattern, flags)
