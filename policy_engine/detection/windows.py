"""Windows where a regex can match, and the search that looks only there.

The prefilter (:mod:`.prefilter`) turns the match ends hyperscan reports for a pattern into
:class:`Windowing`: merged ``(start, end, limit)`` windows, each wide enough to hold every
real match around its ends (:func:`bounded_windows` for a pattern with a longest match).
:func:`finditer` then yields exactly the matches ``compiled.finditer(text)`` yields:

* windows are searched in order from where the last match ended (``finditer`` never
  reports overlapping matches; the text is never sliced, so lookbehinds see before a
  window's start);
* a match ending after a window's ``limit`` (one that only the window's end made
  possible) is dropped: no real match ends there.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import regex


@dataclass(frozen=True)
class Windowing:
    """Where one pattern can match in one text: merged ``(start, end, limit)`` windows; a
    match in a window that ends after its ``limit`` is an artefact of the window's end."""

    windows: tuple[tuple[int, int, int], ...]


#: No window at all: the pattern cannot match in the text.
NOWHERE = Windowing(())


def bounded_windows(
    ends: Sequence[int], longest: int, span: int, length: int
) -> tuple[tuple[int, int, int], ...]:
    """The merged windows of a pattern whose matches are at most ``longest`` long, around
    the sorted hit ``ends`` in a text of ``length``: end ``e`` gives ``(e - longest,
    e + span, e)`` (clipped to the text), and a window starting at or before the end of
    the one before is merged into it. Each merge jumps (by bisection) to the last hit
    that the window so far reaches: dense hits (hyperscan reports every end of a run of
    digits) cost one step per window, not one per hit."""
    windows: list[tuple[int, int, int]] = []
    first, count = 0, len(ends)
    while first < count:
        last = first
        while True:
            high = min(ends[last] + span, length)
            reached = bisect_right(ends, high + longest, last + 1) - 1
            if reached == last:
                break
            last = reached
        limit = ends[last] if ends[last] + span < length else length
        windows.append((max(0, ends[first] - longest), high, limit))
        first = last + 1
    return tuple(windows)


def finditer(
    compiled: regex.Pattern[str],
    text: str,
    windowing: Windowing | None,
    **options: Any,
) -> Iterator[regex.Match[str]]:
    """``compiled.finditer(text, **options)``, searching only ``windowing``'s windows."""
    if windowing is None:
        yield from compiled.finditer(text, **options)
        return
    cursor = 0
    for low, high, limit in windowing.windows:
        if high <= cursor:
            continue
        for match in compiled.finditer(text, max(low, cursor), high, **options):
            if match.end() > limit:
                break
            cursor = match.end()
            yield match
