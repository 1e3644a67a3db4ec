"""One pass of hyperscan over a text tells each regex where it can match; the regex then
runs only there.

The pattern stage has over a hundred regexes (Presidio's built-ins, the YAML recognizers,
the deny lists), and running each over a 100 KB prompt is most of the stage's cost.
:class:`Prefilter` compiles them all into one hyperscan database in *prefilter* mode
(lookarounds and back references approximated, so hyperscan reports the end of every real
match and maybe more). :meth:`Prefilter.scan` runs it once and returns :class:`Hits`; for
each pattern, :func:`finditer` runs the real regex (the ``regex`` module, same flags,
same time limit) only in windows around the reported ends and yields exactly the matches
``compiled.finditer(text)`` yields:

* a window around an end ``e`` is ``[e - W, e + W + L)``, where ``W`` is the longest match
  the pattern can make and ``L`` how far its lookaheads (and ``\\b``, ``$``) can look past
  a match's end (both measured by :mod:`.regex_reach`); overlapping windows merge. Every
  real match lies in a window with at least ``W + L`` characters to spare, so the regex
  sees there what it sees in the whole text (:mod:`.windows`).

A pattern falls back to a full-text search when its lookahead is unbounded, when
Python's parser cannot measure it, or when hyperscan cannot compile it (named back
references, for example); users write their own regexes in ``detectors/*.yaml``, and each
one still works. A pattern whose only fault is an unbounded lookahead is still *gated*:
it is in the database too, and a text where hyperscan reports no end for it cannot hold a
match, so it is not searched at all (one with a report is searched whole). The whole
text is searched the usual way when it is not plain ASCII (hyperscan's and Python's ideas
of ``\\w`` or case differ outside ASCII) or holds the separators ``\\x1c``-``\\x1f``
(which Python counts as ``\\s``).

The parts: :mod:`.regex_reach` measures each regex, :mod:`.regex_rewrite` writes its
hyperscan form, :mod:`.hyperscan_db` compiles and scans databases (and the one-regex
:class:`~.hyperscan_db.Gate`), :mod:`.windows` searches the windows. This module puts them
together; the names it re-exports (``__all__``) are those its callers and tests know it by.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

import hyperscan
import regex

from policy_engine.detection.hyperscan_db import (
    compile_database,
    compiles,
    hs_flags,
    scannable,
    scratch,
)
from policy_engine.detection.prefilter_store import Compiled, PrefilterStore
from policy_engine.detection.regex_reach import Reach, gateable, measure
from policy_engine.detection.regex_rewrite import BACK_REFERENCE, hs_source
from policy_engine.detection.regex_rewrite import start_consumed as _start_consumed
from policy_engine.detection.windows import NOWHERE, Windowing, bounded_windows, finditer

__all__ = [
    "Hits",
    "Prefilter",
    "Reach",
    "Windowing",
    "_start_consumed",
    "bounded_windows",
    "finditer",
    "measure",
]


class Hits:
    """Where each pattern of a :class:`Prefilter` can match in one text."""

    def __init__(self, text: str, ends: dict[int, list[int]], prefilter: Prefilter):
        self._text = text
        self._ends = ends
        self._prefilter = prefilter

    def windowing(self, key: int) -> Windowing | None:
        """The windows of pattern ``key``; None when it must search the whole text."""
        reach = self._prefilter.reaches[key]
        if reach is None:
            gated = self._prefilter.gated[key] and key not in self._ends
            return NOWHERE if gated else None
        if key not in self._ends:
            return NOWHERE
        length = len(self._text)
        ends = sorted(self._ends[key])
        if reach.longest is not None:
            return Windowing(
                bounded_windows(ends, reach.longest, reach.longest + reach.ahead, length)
            )
        windows: list[tuple[int, int, int]] = []
        run_end = -1
        for end in ends:
            if end <= run_end:
                continue  # same run as the hit before
            stops = self._prefilter.stops[key]
            assert stops is not None
            before = stops[1].search(self._text, 0, end)
            after = stops[0].search(self._text, end)
            run_end = after.start() if after is not None else length
            low = before.end() if before is not None else 0
            high, limit = run_end + reach.ahead, run_end
            if high >= length:
                high = limit = length
            if windows and low <= windows[-1][1]:
                last = windows[-1]
                windows[-1] = (last[0], max(high, last[1]), max(limit, last[2]))
            else:
                windows.append((low, high, limit))
        return Windowing(tuple(windows))


class Prefilter:
    """A hyperscan database of many regexes, each known by its index in ``patterns``."""

    def __init__(
        self, patterns: Sequence[tuple[str, int]], store: PrefilterStore | None = None
    ) -> None:
        """Measure and compile ``patterns``; with a ``store``, take both from it when it
        has them and put them there when it has not."""
        #: Per pattern: its reach, None when it searches whole texts.
        self.reaches: list[Reach | None]
        #: Per pattern: whether it is gated (not windowed, yet in the database).
        self.gated: list[bool]
        #: Per unbounded windowed pattern: a regex for a character it cannot consume,
        #: forwards and backwards (None for the others).
        self.stops: list[tuple[regex.Pattern[str], regex.Pattern[str]] | None]
        key = store.key(patterns) if store is not None else ""
        stored = store.load(key) if store is not None else None
        if stored is not None and len(stored.reaches) == len(patterns) == len(stored.gated):
            self.reaches = [
                Reach(*reach) if reach is not None else None for reach in stored.reaches
            ]
            self.gated = stored.gated
            self._database: Any = stored.database
        else:
            self.reaches, self.gated, self._database = _compile(patterns)
            if store is not None:
                reaches = [
                    [r.longest, r.ahead, r.consumed] if r is not None else None
                    for r in self.reaches
                ]
                store.save(key, Compiled(reaches, self.gated, self._database))
        # Only patterns without a longest match look for where a run of them stops.
        self.stops = [
            _stops(r.consumed) if r is not None and r.longest is None else None
            for r in self.reaches
        ]
        self._local = threading.local()

    @property
    def windowed(self) -> int:
        """How many patterns are searched in windows (the others search whole texts)."""
        return sum(reach is not None for reach in self.reaches)

    def scan(self, text: str) -> Hits | None:
        """The hits in ``text``; None when every pattern must search all of it."""
        if self._database is None or not scannable(text):
            return None
        ends: dict[int, list[int]] = {}

        def on_match(key: int, start: int, end: int, flags: int, context: Any) -> None:
            found = ends.get(key)
            if found is None:
                ends[key] = [end]
            elif found[-1] != end:
                found.append(end)

        self._database.scan(
            text.encode("ascii"),
            match_event_handler=on_match,
            scratch=scratch(self._local, self._database),
        )
        return Hits(text, ends, self)


def _compile(
    patterns: Sequence[tuple[str, int]],
) -> tuple[list[Reach | None], list[bool], Any]:
    """Each pattern's reach (None: not windowed), whether it is gated, and the database of
    the windowed and gated ones."""
    reaches = [measure(pattern, flags) for pattern, flags in patterns]
    chosen = [
        (key, hs_source(pattern), hs_flags(flags))
        for key, ((pattern, flags), reach) in enumerate(zip(patterns, reaches, strict=True))
        if (reach is not None or gateable(pattern, flags)) and not BACK_REFERENCE.search(pattern)
    ]
    try:
        database = compile_database(chosen)
    except hyperscan.error:  # one of them does not compile: leave those out
        chosen = [entry for entry in chosen if compiles(entry[1], entry[2])]
        database = compile_database(chosen)
    kept = {key for key, _, _ in chosen}
    return (
        [reach if key in kept else None for key, reach in enumerate(reaches)],
        [key in kept and reach is None for key, reach in enumerate(reaches)],
        database,
    )


def _stops(consumed: str) -> tuple[regex.Pattern[str], regex.Pattern[str]]:
    """Regexes for the first character after, and the last before, a position that a match
    cannot consume (any non-ASCII character included)."""
    body = "".join(regex.escape(ch) for ch in consumed)
    stop = f"[^{body}]" if body else r"[\s\S]"
    return regex.compile(stop), regex.compile(stop, regex.REVERSE)
