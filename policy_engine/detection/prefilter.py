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
  a match's end; overlapping windows merge. Every real match lies in a window with at
  least ``W + L`` characters to spare, so the regex sees there what it sees in the whole
  text (lookbehinds look before a window's start: the text is never sliced);
* windows are searched in order from where the last match ended (``finditer`` never
  reports overlapping matches), and a match ending in the last ``W + L`` characters of a
  window (one that only the window's end made possible) is dropped: no real match ends
  there.

A pattern falls back to a full-text search when its lookahead is unbounded, when
Python's parser cannot measure it, or when hyperscan cannot compile it (named back
references, for example); users write their own regexes in ``detectors/*.yaml``, and each
one still works. A pattern whose only fault is an unbounded lookahead is still *gated*:
it is in the database too, and a text where hyperscan reports no end for it cannot hold a
match, so it is not searched at all (one with a report is searched whole). The whole
text is searched the usual way when it is not plain ASCII (hyperscan's and Python's ideas
of ``\\w`` or case differ outside ASCII) or holds the separators ``\\x1c``-``\\x1f``
(which Python counts as ``\\s``).
"""

from __future__ import annotations

import contextlib
import re
import threading
import warnings
from bisect import bisect_right
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import cache
from re import _constants as sre_constants  # type: ignore[attr-defined]
from re import _parser as sre_parse  # type: ignore[attr-defined]
from typing import Any

import hyperscan
import regex

from policy_engine.detection.prefilter_store import Compiled, PrefilterStore

#: Characters of a text that Python's ``\\s`` matches and hyperscan's does not.
_UNSAFE_ASCII = "\x1c\x1d\x1e\x1f"
#: Unicode property escapes (``\\p{Lu}``): measured as any character.
_PROPERTY = re.compile(r"\\[pP]\{[^}]*\}|\\[pP][A-Za-z]")
#: Named groups: plain groups for hyperscan.
_NAMED_GROUP = re.compile(r"\(\?P<\w+>")
#: Extra lookahead every pattern is granted (``\\b`` and ``$`` look one or two ahead).
_END_LOOK = 2

_HS_BASE = hyperscan.HS_FLAG_PREFILTER


@dataclass(frozen=True)
class Windowing:
    """Where one pattern can match in one text: merged ``(start, end, limit)`` windows; a
    match in a window that ends after its ``limit`` is an artefact of the window's end."""

    windows: tuple[tuple[int, int, int], ...]


@dataclass(frozen=True)
class Reach:
    """How far a pattern's matches reach: the longest match (None: unbounded), how far its
    lookaheads see past a match, and which ASCII characters a match can consume."""

    longest: int | None
    ahead: int
    consumed: str


#: Syntax that Python's parser reads differently from the ``regex`` module or hyperscan:
#: fuzzy matching (``{e<=1}``) and quantifiers without a minimum (``{,3}``).
_MISREAD = re.compile(r"\{[^}]*[eisd]\s*<|\{,")
_SRE_FLAGS = re.IGNORECASE | re.MULTILINE | re.DOTALL | re.VERBOSE
_ASCII = [chr(code) for code in range(128)]


def measure(pattern: str, flags: int) -> Reach | None:
    """The :class:`Reach` of ``pattern``; None if its lookaheads are unbounded or Python's
    parser cannot read it."""
    parsed = _parse(pattern, flags)
    if parsed is None:
        return None
    try:
        longest = parsed.getwidth()[1]
        ahead = _lookahead(parsed)
        consumed: set[str] = set()
        icase = bool((flags | parsed.state.flags) & re.IGNORECASE)
        if not _consumed(parsed, icase, consumed):
            consumed = set(_ASCII)
    except (re.error, OverflowError, RecursionError, TypeError, ValueError):
        return None
    if ahead is None:
        return None
    return Reach(
        None if longest >= sre_constants.MAXREPEAT else int(longest),
        ahead + _END_LOOK,
        "".join(sorted(consumed)),
    )


def _without_properties(pattern: str) -> str:
    """``pattern`` with each ``\\p{...}`` replaced by "any character", which Python's
    parser measures (``[\\s\\S]``, or ``\\s\\S`` inside a character class)."""
    return _rewrite(pattern, "measure")


def _for_ascii(pattern: str) -> str:
    """``pattern`` as it acts on plain-ASCII texts, in ASCII only (hyperscan then compiles
    it byte-wise, fast): each ``\\p{...}`` becomes the ASCII characters with that property,
    each non-ASCII character a byte no ASCII text holds (``\\x80``)."""
    return _rewrite(pattern, "ascii")


def _loosened(pattern: str) -> str:
    """``pattern`` with counted repeats over :data:`_MAX_COUNT` opened up (``{8,200}`` →
    ``{8,}``, ``{33}`` → ``{16,}``): it matches wherever ``pattern`` does, and hyperscan
    compiles it in milliseconds instead of seconds."""
    return _rewrite(pattern, "loosen")


def _ascii_with(escape: str) -> str:
    """The ASCII characters ``escape`` (``\\p{Lu}``) matches, escaped for a class (a byte
    no ASCII text holds when none does)."""
    compiled = regex.compile(escape)
    chars = "".join(regex.escape(ch) for ch in _ASCII if compiled.match(ch))
    return chars + "\\x80"


#: Largest repeat count given to hyperscan as it is (see :func:`_loosened`).
_MAX_COUNT = 16
_COUNT = re.compile(r"\{(\d+)(?:(,)(\d*))?\}")


def _rewrite(pattern: str, mode: str) -> str:
    """One pass over ``pattern`` that knows which characters stand in a character class:
    ``measure``, ``ascii`` or ``loosen`` (the functions above)."""
    out: list[str] = []
    index = 0
    in_class = False
    while index < len(pattern):
        ch = pattern[index]
        token = pattern[index : index + 2] if ch == "\\" else ch
        found = _PROPERTY.match(pattern, index) if ch == "\\" else None
        count = _COUNT.match(pattern, index) if ch == "{" and not in_class else None
        if found is not None and mode != "loosen":
            chars = r"\s\S" if mode == "measure" else _ascii_with(found.group())
            out.append(chars if in_class else f"[{chars}]")
            index = found.end()
            continue
        if mode == "ascii" and not token.isascii():
            out.append("\\x80" if in_class else "[\\x80]")
        elif mode == "loosen" and count is not None:
            out.append(_loose_count(count))
            token = count.group()
        else:
            out.append(token)
        index += len(token)
        if ch == "[" and not in_class:
            in_class = True
            for literal in ("^", "]"):  # "[]...]" and "[^]...]" hold a literal "]"
                if pattern.startswith(literal, index):
                    out.append(literal)
                    index += 1
        elif ch == "]" and in_class:
            in_class = False
    return "".join(out)


def _loose_count(count: re.Match[str]) -> str:
    low = int(count.group(1))
    if count.group(2) is None:
        top: int | None = low
    else:
        top = int(count.group(3)) if count.group(3) else None
    if top is not None and top > _MAX_COUNT:
        return f"{{{min(low, _MAX_COUNT)},}}"
    return count.group()


def _lookahead(parsed: Any) -> int | None:
    """The sum of the longest reaches of all lookaheads in ``parsed`` (None: unbounded)."""
    total = 0
    for op, av in parsed:
        if op in (sre_constants.ASSERT, sre_constants.ASSERT_NOT) and av[0] == 1:
            reach = av[1].getwidth()[1]
            if reach >= sre_constants.MAXREPEAT:
                return None
            total += int(reach)
        for child in _children(op, av):
            inner = _lookahead(child)
            if inner is None:
                return None
            total += inner
    return total


def _children(op: Any, av: Any) -> list[Any]:
    if op in (sre_constants.ASSERT, sre_constants.ASSERT_NOT):
        return [av[1]]
    if op == sre_constants.BRANCH:
        return list(av[1])
    if op == sre_constants.SUBPATTERN:
        return [av[-1]]
    if op in (sre_constants.MAX_REPEAT, sre_constants.MIN_REPEAT, sre_constants.POSSESSIVE_REPEAT):
        return [av[2]]
    if op == sre_constants.ATOMIC_GROUP:
        return [av]
    if op == sre_constants.GROUPREF_EXISTS:
        return [sub for sub in av[1:] if sub is not None]
    return []


def _consumed(parsed: Any, icase: bool, out: set[str]) -> bool:
    """Add to ``out`` every ASCII character a match of ``parsed`` may consume (more is
    fine); False when unsure (then every character counts)."""
    for op, av in parsed:
        if op in (sre_constants.ASSERT, sre_constants.ASSERT_NOT, sre_constants.AT):
            continue  # consume nothing; lookaheads are covered by Reach.ahead
        if op == sre_constants.LITERAL:
            out.update(ch for ch in _ASCII if _same(ch, chr(av), icase))
        elif op == sre_constants.IN:
            if not _in_set(av, icase, out):
                return False
        elif op in (sre_constants.NOT_LITERAL, sre_constants.ANY):
            return False
        elif op == sre_constants.GROUPREF:
            continue  # repeats what its group consumed
        elif op == sre_constants.SUBPATTERN:
            add_flags, del_flags = av[1], av[2]
            inner = (icase or bool(add_flags & re.IGNORECASE)) and not del_flags & re.IGNORECASE
            if not _consumed(av[-1], inner, out):
                return False
        else:
            children = _children(op, av)
            if not children and op not in (sre_constants.GROUPREF_EXISTS,):
                return False
            if not all(_consumed(child, icase, out) for child in children):
                return False
    return True


def _same(ch: str, other: str, icase: bool) -> bool:
    if ch == other:
        return True
    return icase and (
        ch.lower() == other.lower()
        or ch.upper() == other.upper()
        or ch.casefold() == other.casefold()
    )


_CATEGORIES = {
    sre_constants.CATEGORY_DIGIT: re.compile(r"\d"),
    sre_constants.CATEGORY_WORD: re.compile(r"\w"),
    sre_constants.CATEGORY_SPACE: re.compile(r"\s"),
    sre_constants.CATEGORY_NOT_DIGIT: re.compile(r"\D"),
    sre_constants.CATEGORY_NOT_WORD: re.compile(r"\W"),
    sre_constants.CATEGORY_NOT_SPACE: re.compile(r"\S"),
}


def _in_set(items: Any, icase: bool, out: set[str]) -> bool:
    for op, av in items:
        if op == sre_constants.NEGATE:
            return False
        if op == sre_constants.LITERAL:
            out.update(ch for ch in _ASCII if _same(ch, chr(av), icase))
        elif op == sre_constants.RANGE:
            low, high = av
            out.update(
                ch
                for ch in _ASCII
                if any(
                    low <= ord(v) <= high for v in {ch, ch.lower(), ch.upper()} if icase or v == ch
                )
            )
            if icase and high >= 128:
                return False  # non-ASCII letters that fold to ASCII ones: count everything
        elif op == sre_constants.CATEGORY and av in _CATEGORIES:
            out.update(ch for ch in _ASCII if _CATEGORIES[av].match(ch))
        else:
            return False
    return True


def _hs_source(pattern: str) -> bytes:
    """What hyperscan compiles for ``pattern``: plain groups, ASCII only, loose counts, and
    a leading line-start lookbehind consumed (:func:`_start_consumed`)."""
    plain = _start_consumed(_NAMED_GROUP.sub("(", pattern))
    return _loosened(_for_ascii(plain)).encode("ascii")


#: A pattern that starts (after inline flags) with ``(?:^|(?<=X))``, X without groups or
#: alternatives: a match starts at the text's start or right after X.
_LEADING_LOOKBEHIND = re.compile(r"(\(\?[a-zA-Z]+\))?\(\?:\^\|\(\?<=([^()|]+)\)\)")


def _start_consumed(pattern: str) -> str:
    """``pattern`` with a leading ``(?:^|(?<=X))`` turned into ``(?:^|X)``.

    Hyperscan does not support lookbehinds and, in prefilter mode, drops them, so such a
    pattern would be reported wherever the rest matches (a name line: wherever two
    capitalised words meet). Consuming X instead reports the same match ends, since
    nothing is consumed before it: X ends where the match starts.
    """
    found = _LEADING_LOOKBEHIND.match(pattern)
    if found is None:
        return pattern
    flags = found.group(1) or ""
    return f"{flags}(?:^|{found.group(2)}){pattern[found.end() :]}"


def _hs_flags(flags: int) -> int:
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


def _has_unsafe_ascii(text: str) -> bool:
    """Whether the plain-ASCII ``text`` holds one of :data:`_UNSAFE_ASCII`'s characters."""
    return any(ch in text for ch in _UNSAFE_ASCII)


#: No window at all: the pattern cannot match in the text.
_NOWHERE = Windowing(())


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
            return _NOWHERE if gated else None
        if key not in self._ends:
            return _NOWHERE
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
        if self._database is None or not text.isascii() or _has_unsafe_ascii(text):
            return None
        ends: dict[int, list[int]] = {}

        def on_match(key: int, start: int, end: int, flags: int, context: Any) -> None:
            found = ends.get(key)
            if found is None:
                ends[key] = [end]
            elif found[-1] != end:
                found.append(end)

        self._database.scan(
            text.encode("ascii"), match_event_handler=on_match, scratch=_scratch(self)
        )
        return Hits(text, ends, self)


def _compile(
    patterns: Sequence[tuple[str, int]],
) -> tuple[list[Reach | None], list[bool], Any]:
    """Each pattern's reach (None: not windowed), whether it is gated, and the database of
    the windowed and gated ones."""
    reaches = [measure(pattern, flags) for pattern, flags in patterns]
    chosen = [
        (key, _hs_source(pattern), _hs_flags(flags))
        for key, ((pattern, flags), reach) in enumerate(zip(patterns, reaches, strict=True))
        if (reach is not None or _gateable(pattern, flags)) and not _BACK_REFERENCE.search(pattern)
    ]
    try:
        database = _database(chosen)
    except hyperscan.error:  # one of them does not compile: leave those out
        chosen = [entry for entry in chosen if _compiles(entry[1], entry[2])]
        database = _database(chosen)
    kept = {key for key, _, _ in chosen}
    return (
        [reach if key in kept else None for key, reach in enumerate(reaches)],
        [key in kept and reach is None for key, reach in enumerate(reaches)],
        database,
    )


def _parse(pattern: str, flags: int) -> Any:
    """Python's parse of ``pattern``; None when Python's parser cannot read it, or reads it
    differently from the ``regex`` module (see :data:`_MISREAD`)."""
    if _MISREAD.search(pattern):
        return None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "possible nested set" and the like
            return sre_parse.parse(_without_properties(pattern), flags & _SRE_FLAGS)
    except (re.error, OverflowError, RecursionError, TypeError, ValueError):
        return None


def _gateable(pattern: str, flags: int) -> bool:
    """Whether Python's parser reads ``pattern`` as the ``regex`` module does (so that its
    hyperscan form reports every match): :func:`measure` failed only on its lookahead."""
    return _parse(pattern, flags) is not None


def _stops(consumed: str) -> tuple[regex.Pattern[str], regex.Pattern[str]]:
    """Regexes for the first character after, and the last before, a position that a match
    cannot consume (any non-ASCII character included)."""
    body = "".join(regex.escape(ch) for ch in consumed)
    stop = f"[^{body}]" if body else r"[\s\S]"
    return regex.compile(stop), regex.compile(stop, regex.REVERSE)


def _scratch(owner: Prefilter | Gate) -> Any:
    """The calling thread's hyperscan scratch space for ``owner``'s database (a scratch
    must not be used by two scans at once)."""
    scratch = getattr(owner._local, "scratch", None)
    if scratch is None:
        scratch = owner._local.scratch = hyperscan.Scratch(owner._database)
    return scratch


#: Back references, which hyperscan does not compile (even in prefilter mode, by name).
_BACK_REFERENCE = re.compile(r"\(\?P=|\\g<|\\k<|\\[1-9]")


def _database(chosen: list[tuple[int, bytes, int]]) -> Any:
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


def _compiles(source: bytes, flags: int) -> bool:
    database = hyperscan.Database(mode=hyperscan.HS_MODE_BLOCK)
    try:
        database.compile(expressions=[source], ids=[0], elements=1, flags=[flags])
    except hyperscan.error:
        return False
    return True


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


class Gate:
    """Whether a regex may match a text at all, from one hyperscan pass: a cheap "is there
    anything to do" before a costly search. Plain-ASCII texts only (as :class:`Prefilter`);
    for any other text, and for a regex hyperscan cannot compile, the answer is yes."""

    def __init__(self, pattern: str, flags: int) -> None:
        source = _hs_source(pattern)
        hs_flags = _hs_flags(flags) | hyperscan.HS_FLAG_SINGLEMATCH
        self._database: Any = None  # stays None (every text may match) if it cannot compile
        with contextlib.suppress(hyperscan.error):
            self._database = _database([(0, source, hs_flags)])
        self._local = threading.local()

    def may_match(self, text: str) -> bool:
        if self._database is None or not text.isascii() or _has_unsafe_ascii(text):
            return True
        found: list[int] = []

        def on_match(key: int, start: int, end: int, flags: int, context: Any) -> bool:
            found.append(end)
            return True  # stop at the first hit

        try:
            self._database.scan(
                text.encode("ascii"), match_event_handler=on_match, scratch=_scratch(self)
            )
        except hyperscan.error:
            if not found:
                raise
        return bool(found)


@cache
def gate(pattern: str, flags: int = 0) -> Gate:
    """The :class:`Gate` of ``pattern`` with ``flags``, built on first use and then kept."""
    return Gate(pattern, flags)
