"""How far a regex's matches reach, read from Python's parse of it.

The prefilter (:mod:`.prefilter`) searches a regex only in windows around the match ends
hyperscan reports. A window is wide enough when it holds the longest match the regex can
make plus how far its lookaheads (and ``\\b``, ``$``) look past a match's end; a regex
without a longest match needs the set of characters a match can consume, to find where a
run of them stops. :func:`measure` reads all three (a :class:`Reach`) from Python's own
parser; it gives up (None) where that parser reads a regex differently from the ``regex``
module, or where a lookahead is unbounded.
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass
from re import _constants as sre_constants  # type: ignore[attr-defined]
from re import _parser as sre_parse  # type: ignore[attr-defined]
from typing import Any

from policy_engine.detection.regex_rewrite import ASCII_CHARS, without_properties

#: Extra lookahead every pattern is granted (``\\b`` and ``$`` look one or two ahead).
_END_LOOK = 2


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
            consumed = set(ASCII_CHARS)
    except (re.error, OverflowError, RecursionError, TypeError, ValueError):
        return None
    if ahead is None:
        return None
    return Reach(
        None if longest >= sre_constants.MAXREPEAT else int(longest),
        ahead + _END_LOOK,
        "".join(sorted(consumed)),
    )


def gateable(pattern: str, flags: int) -> bool:
    """Whether Python's parser reads ``pattern`` as the ``regex`` module does (so that its
    hyperscan form reports every match): :func:`measure` failed only on its lookahead."""
    return _parse(pattern, flags) is not None


def _parse(pattern: str, flags: int) -> Any:
    """Python's parse of ``pattern``; None when Python's parser cannot read it, or reads it
    differently from the ``regex`` module (see :data:`_MISREAD`)."""
    if _MISREAD.search(pattern):
        return None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "possible nested set" and the like
            return sre_parse.parse(without_properties(pattern), flags & _SRE_FLAGS)
    except (re.error, OverflowError, RecursionError, TypeError, ValueError):
        return None


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
            out.update(ch for ch in ASCII_CHARS if _same(ch, chr(av), icase))
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
            out.update(ch for ch in ASCII_CHARS if _same(ch, chr(av), icase))
        elif op == sre_constants.RANGE:
            low, high = av
            out.update(
                ch
                for ch in ASCII_CHARS
                if any(
                    low <= ord(v) <= high for v in {ch, ch.lower(), ch.upper()} if icase or v == ch
                )
            )
            if icase and high >= 128:
                return False  # non-ASCII letters that fold to ASCII ones: count everything
        elif op == sre_constants.CATEGORY and av in _CATEGORIES:
            out.update(ch for ch in ASCII_CHARS if _CATEGORIES[av].match(ch))
        else:
            return False
    return True
