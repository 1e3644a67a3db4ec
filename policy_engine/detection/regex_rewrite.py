"""Python regexes rewritten for what reads them next: Python's parser, or hyperscan.

:mod:`.prefilter` measures each regex with Python's parser (:mod:`.regex_reach`) and
compiles it into a hyperscan database (:mod:`.hyperscan_db`). Neither reads every regex
as the ``regex`` module does, so the source is rewritten first, in one pass that knows
which characters stand inside a character class (:func:`_rewrite`):

* for measuring, each Unicode property escape (``\\p{Lu}``) becomes "any character"
  (:func:`without_properties`);
* for hyperscan, named groups become plain groups, each ``\\p{...}`` the ASCII characters
  with that property and each non-ASCII character a byte no ASCII text holds (texts are
  scanned only when plain ASCII), counted repeats over :data:`_MAX_COUNT` are opened up,
  and a leading line-start lookbehind is consumed (:func:`hs_source`).
"""

from __future__ import annotations

import re

import regex

#: Unicode property escapes (``\\p{Lu}``): measured as any character.
_PROPERTY = re.compile(r"\\[pP]\{[^}]*\}|\\[pP][A-Za-z]")
#: Named groups: plain groups for hyperscan.
_NAMED_GROUP = re.compile(r"\(\?P<\w+>")
#: Back references, which hyperscan does not compile (even in prefilter mode, by name).
BACK_REFERENCE = re.compile(r"\(\?P=|\\g<|\\k<|\\[1-9]")
#: Every ASCII character.
ASCII_CHARS = [chr(code) for code in range(128)]


def without_properties(pattern: str) -> str:
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
    chars = "".join(regex.escape(ch) for ch in ASCII_CHARS if compiled.match(ch))
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


def hs_source(pattern: str) -> bytes:
    """What hyperscan compiles for ``pattern``: plain groups, ASCII only, loose counts, and
    a leading line-start lookbehind consumed (:func:`start_consumed`)."""
    plain = start_consumed(_NAMED_GROUP.sub("(", pattern))
    return _loosened(_for_ascii(plain)).encode("ascii")


#: A pattern that starts (after inline flags) with ``(?:^|(?<=X))``, X without groups or
#: alternatives: a match starts at the text's start or right after X.
_LEADING_LOOKBEHIND = re.compile(r"(\(\?[a-zA-Z]+\))?\(\?:\^\|\(\?<=([^()|]+)\)\)")


def start_consumed(pattern: str) -> str:
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
