# ruff: noqa: RUF001  (the homoglyph table is made of look-alike letters on purpose)
"""A normalized view of a text for detection, with a map back to the original offsets.

People who want sensitive data to slip past the engine disguise it. :func:`normalize`
undoes the common disguises before detection, in these passes:

0. **String escapes** (only where the text has a backslash): ``\\u002d``, ``\\U0001F600`` and
   ``\\x2d``, as JSON, JavaScript, Python and Java write characters, become the character
   (a surrogate pair one character; a lone surrogate, a control character and a blank
   stay as written, except a blank between two digits: an escaped blank is part of a
   value, ``u"\\u0020827634876"``), also with a run of
   backslashes before them (JSON inside JSON doubles each one), so ``536\\u002d22\\u002d8812``
   in a tool call's arguments is an SSN.
   **Terminal colours** (only where the text has an ESC character): ANSI escape
   sequences (``\\x1b[93m``) are removed, so a key pasted from a coloured terminal is
   seen as the terminal shows it.
   **HTML character references** (only where the text has ``&...;``): decimal, hex and
   named references (``&#64;``, ``&#x34;``, ``&quot;``) become the characters a browser
   shows (:func:`html.unescape`, one level: ``&amp;#64;`` becomes ``&#64;``), so
   ``j.doe&#64;example.com`` is an e-mail address; unknown names are left as they are.
1. **Unicode** (only where the text has non-ASCII characters): NFKC per character
   (full-width digits become ASCII digits, ligatures split; decimal digits of other
   scripts, such as Arabic-Indic or Devanagari ones, become ASCII digits), zero-width,
   bidi and other format characters (Unicode category Cf) and combining marks (Mn) removed,
   Cyrillic and Greek look-alike letters folded to Latin inside words that also hold Latin
   letters or digits, or that consist of look-alikes only.
   Dashes, minus signs, middle dots and slashes that NFKC leaves as they are (the
   non-breaking hyphen U+2011, en and em dashes, U+2212 minus, U+00B7, the division slash
   …) become ``-`` or ``/`` between digits, with the blanks around them
   (``536\u201122\u20118190``, ``4539 \u2014 1488``).
2. **Separators**: ``j.doe (at) example (dot) com`` and ``j.doe at example dot com``
   become ``j.doe@example.com``; digits spelled as words (``four one one one``, at least
   four) become digits; single digits separated by spaces, dots, dashes or slashes
   (``4 1 1 1 - 1 1 1 1``, at least seven) lose the blanks (``4111-1111``); one number
   whose groups use different separators, or slashes only, in the shape of a card, an SSN
   or a phone number (``4111 1111-1111.1111``, ``536-22 8190``, ``536/22/8190``), gets
   dashes between all of them;
   words written with their letters spaced out (``C O N F I D E N T I A L``, at least
   four letters; a wider gap between words) are written together; an underscore that
   glues such a number to a word (``ssn_536-22-8190``, ``536-22-8190_W2.pdf``: file
   names, identifiers) becomes a blank, so the number stands alone.

Each pass rewrites non-overlapping ranges; :class:`OffsetMap` keeps, per rewritten range,
where it came from, so a span found in the normalized view maps back to the original
text (a span that starts or ends inside a rewritten range widens to cover all of it).
A text with nothing to normalize costs one ``isascii`` check and one hyperscan pass
(:class:`~policy_engine.detection.hyperscan_db.Gate`; the separator regex runs only when that
cannot rule it out), and returns itself with the identity map.
"""

from __future__ import annotations

import bisect
import html
import re
import unicodedata
from dataclasses import dataclass, field

import regex

from policy_engine.detection.hyperscan_db import Gate, gate

#: Latin letters that Cyrillic and Greek letters are mistaken for (the usual confusables).
HOMOGLYPHS: dict[str, str] = {
    # Cyrillic lower case
    "а": "a", "в": "b", "е": "e", "ё": "e", "к": "k", "м": "m", "н": "h", "о": "o",
    "р": "p", "с": "c", "т": "t", "у": "y", "х": "x", "ѕ": "s", "і": "i", "ї": "i",
    "ј": "j", "ԁ": "d", "ԛ": "q", "ԝ": "w", "һ": "h", "ӏ": "l", "ɡ": "g",
    # Cyrillic upper case
    "А": "A", "В": "B", "Е": "E", "Ё": "E", "К": "K", "М": "M", "Н": "H", "О": "O",
    "Р": "P", "С": "C", "Т": "T", "У": "Y", "Х": "X", "Ѕ": "S", "І": "I", "Ї": "I",
    "Ј": "J", "Ԛ": "Q", "Ԝ": "W", "Һ": "H", "Ӏ": "I",
    # Greek
    "Α": "A", "Β": "B", "Ε": "E", "Ζ": "Z", "Η": "H", "Ι": "I", "Κ": "K", "Μ": "M",
    "Ν": "N", "Ο": "O", "Ρ": "P", "Τ": "T", "Υ": "Y", "Χ": "X", "ο": "o", "ν": "v",
    "α": "a", "ι": "i", "κ": "k", "ρ": "p", "τ": "t", "υ": "u", "χ": "x", "ϲ": "c",
}  # fmt: skip

#: Separators NFKC does not fold into ASCII, and what they stand for between digits.
NUMBER_SEPARATORS: dict[str, str] = {
    **dict.fromkeys("\u2010\u2011\u2012\u2013\u2014\u2015\u2043\u2212\u02d7\u2796\ufe58", "-"),
    **dict.fromkeys("\u00b7\u2219\u22c5\u30fb\uff65\u2027", "-"),
    **dict.fromkeys("\u2044\u2215\u29f8", "/"),
}

_DIGIT_WORDS = {
    "zero": "0", "oh": "0", "one": "1", "two": "2", "three": "3", "four": "4",
    "five": "5", "six": "6", "seven": "7", "eight": "8", "nine": "9",
}  # fmt: skip

_ANSI_ESCAPE = regex.compile(r"\x1b(?:\[[0-?]{0,32}[ -/]{0,8}[@-~]|[@-Z\\-_])")
#: A string escape of one character (after any run of backslashes: JSON in JSON).
_STRING_ESCAPE = re.compile(r"\\+(?:u([0-9A-Fa-f]{4})|U([0-9A-Fa-f]{8})|x([0-9A-Fa-f]{2}))")
_HTML_REFERENCE = re.compile(r"&(?:#[0-9]{1,7}|#[xX][0-9A-Fa-f]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});")
_NON_ASCII = regex.compile(r"[^\x00-\x7f]")
_WORD_WITH_NON_ASCII = regex.compile(r"\w*[^\x00-\x7f][\w\p{Mn}\p{Cf}]*")
_DIGIT_WORD = "|".join(sorted(_DIGIT_WORDS, key=len, reverse=True))

#: Everything the separator pass rewrites; searched once to decide if there is work.
_SEPARATORS = regex.compile(
    r"(?P<at>\s*[\(\[\{<]\s*at\s*[\)\]\}>]\s*)"
    r"|(?P<dot>\s*[\(\[\{<]\s*dot\s*[\)\]\}>]\s*)"
    r"|(?<=[\w.+-])(?P<at_word>\s+at\s+)(?=[A-Za-z0-9-]+(?:\s+dot\s+[A-Za-z0-9-]+)+\b)"
    r"|(?<=[A-Za-z0-9-])(?P<dot_word>\s+dot\s+)(?=[A-Za-z]{2,}\b)"
    rf"|(?P<spelled>\b(?:{_DIGIT_WORD})(?:[\s,-]+(?:{_DIGIT_WORD})){{3,}}\b)"
    r"|(?P<spaced>(?<![\w.])\d(?:[ \t]*[ \t.\-/][ \t]*\d){6,}(?![\w]|\.\d))"
    r"|(?P<mixed>(?<![\w.\-/])(?=[\d .\-/]*?\d(?: \d{1,6}[.\-/]|\.\d{1,6}[ \-/]"
    r"|-\d{1,6}[ ./]|/\d{1,6}[ .\-/])\d)\d{1,6}(?:[ .\-/]\d{1,6}){2,5}(?![\w]|[.\-/]\d))"
    r"|(?P<letters>(?<![\p{L}\p{N}])\p{L}(?:(?:[ \t]{1,3}|[ \t]*/[ \t]*|[.\-_*])\p{L}"
    r"(?![\p{L}\p{N}])){3,})",
    regex.IGNORECASE,
)
#: Digit groups of the numbers whose separators are made alike: SSNs, cards, phone numbers.
_NUMBER_SHAPES = frozenset(
    {(3, 2, 4), (4, 4, 4, 4), (4, 4, 4, 4, 3), (4, 6, 5), (4, 6, 4), (4, 4, 4, 2), (4, 4, 4, 3),
     (3, 3, 4), (1, 3, 3, 4), (2, 3, 3, 4), (3, 3, 3, 4)}
)  # fmt: skip
_MIXED_SEPARATOR = regex.compile(r"[ .\-/]")
#: An underscore between a letter or digit and a digit (where a number may be glued on).
_GLUE = re.compile(r"[^\W_]_\d|\d_[^\W_]")
#: A number of digit groups glued to a word by an underscore before or after it.
_GLUED_NUMBER = regex.compile(
    r"(?:(?<=[\p{L}\p{N}])(?P<lead>_)|(?<![\p{L}\p{N}._\-/]))"
    r"(?P<number>\d{1,6}(?:[ .\-/]\d{1,6}){2,4})"
    r"(?:(?P<trail>_)(?=[\p{L}\p{N}])|(?![\p{L}\p{N}_]|[.\-/]\d))"
)
#: A gap between spaced-out words: two blanks or more, or a slash.
_WORD_GAP = regex.compile(r"[ \t]{2,}|[ \t]*/[ \t]*")
_SPELLED_WORD = regex.compile(_DIGIT_WORD, regex.IGNORECASE)


#: Matches wherever :data:`_SEPARATORS` matches (and more): its lookaheads and lookbehinds
#: made part of the match, its negative ones left out. Hyperscan ignores lookarounds, and
#: without them " at " alone would match; with them, most texts are ruled out in one pass.
_SEPARATORS_SUPERSET = (
    r"[\(\[\{<]\s*(?:at|dot)\s*[\)\]\}>]"
    r"|[\w.+-]\s+at\s+[A-Za-z0-9-]+\s+dot\s+[A-Za-z0-9-]"
    r"|[A-Za-z0-9-]\s+dot\s+[A-Za-z]{2}"
    rf"|(?:{_DIGIT_WORD})(?:[\s,-]+(?:{_DIGIT_WORD})){{3}}"
    r"|\d(?:[ \t]*[ \t.\-/][ \t]*\d){6}"
    r"|\d(?: \d{1,6}[.\-/]|\.\d{1,6}[ \-/]|-\d{1,6}[ ./]|/\d{1,6}[ .\-/])\d"
    r"|[a-z](?:(?:[ \t]{1,3}|[ \t]*/[ \t]*|[.\-_*])[a-z]){3}"
)


def _separators_gate() -> Gate:
    """One hyperscan pass that rules out :data:`_SEPARATORS` on most texts (the regex alone
    takes ~0.3 ms per KB to find nothing)."""
    return gate(_SEPARATORS_SUPERSET, regex.IGNORECASE)


@dataclass(frozen=True)
class _Piece:
    """One rewritten range: normalized ``[n_start, n_end)`` came from ``[o_start, o_end)``."""

    n_start: int
    n_end: int
    o_start: int
    o_end: int


@dataclass
class OffsetMap:
    """Maps offsets of one rewrite back to the text it was made from.

    Outside the rewritten pieces offsets shift by a constant; inside one, a position maps
    to the piece's start (span starts) or end (span ends).
    """

    pieces: list[_Piece] = field(default_factory=list)
    _n_starts: list[int] = field(default_factory=list)

    def add(self, piece: _Piece) -> None:
        self.pieces.append(piece)
        self._n_starts.append(piece.n_start)

    def start(self, position: int) -> int:
        return self._map(position, end=False)

    def end(self, position: int) -> int:
        return self._map(position, end=True)

    def _map(self, position: int, *, end: bool) -> int:
        probe = position - 1 if end else position
        index = bisect.bisect_right(self._n_starts, probe) - 1
        if index < 0:
            return position
        piece = self.pieces[index]
        if piece.n_start <= probe < piece.n_end:
            return piece.o_end if end else piece.o_start
        # After this piece: shift by the difference of lengths accumulated so far.
        return position + (piece.o_end - piece.n_end)


@dataclass(frozen=True)
class NormalizedView:
    """The normalized text and the maps (one per pass that changed anything) back."""

    text: str
    maps: tuple[OffsetMap, ...] = ()

    @property
    def changed(self) -> bool:
        return bool(self.maps)

    def original_span(self, start: int, end: int) -> tuple[int, int]:
        """The original ``[start, end)`` of a span of :attr:`text`."""
        for offset_map in reversed(self.maps):
            start, end = offset_map.start(start), offset_map.end(end)
        return start, end


def normalize(text: str) -> NormalizedView:
    """The normalized view of ``text`` (itself, with no maps, when nothing needed doing)."""
    maps: list[OffsetMap] = []
    if "\\" in text:
        text, offset_map = _rewrite(text, _escape_replacements(text))
        if offset_map.pieces:
            maps.append(offset_map)
    if "\x1b" in text:
        text, offset_map = _rewrite(
            text, [(m.start(), m.end(), "") for m in _ANSI_ESCAPE.finditer(text)]
        )
        if offset_map.pieces:
            maps.append(offset_map)
    if "&" in text and ";" in text:
        text, offset_map = _rewrite(text, _html_replacements(text))
        if offset_map.pieces:
            maps.append(offset_map)
    if not text.isascii():
        text, offset_map = _rewrite(text, _unicode_replacements(text))
        if offset_map.pieces:
            maps.append(offset_map)
    if "_" in text and _GLUE.search(text) is not None:
        text, offset_map = _rewrite(text, _glue_replacements(text))
        if offset_map.pieces:
            maps.append(offset_map)
    if _separators_gate().may_match(text) and _SEPARATORS.search(text) is not None:
        text, offset_map = _rewrite(text, _separator_replacements(text))
        if offset_map.pieces:
            maps.append(offset_map)
    return NormalizedView(text, tuple(maps))


def _rewrite(text: str, replacements: list[tuple[int, int, str]]) -> tuple[str, OffsetMap]:
    """Apply sorted, non-overlapping ``(start, end, new text)`` replacements."""
    out: list[str] = []
    offset_map = OffsetMap()
    cursor = 0
    length = 0
    for start, end, new in replacements:
        out.append(text[cursor:start])
        length += start - cursor
        offset_map.add(_Piece(length, length + len(new), start, end))
        out.append(new)
        length += len(new)
        cursor = end
    out.append(text[cursor:])
    return "".join(out), offset_map


def _escape_replacements(text: str) -> list[tuple[int, int, str]]:
    """The string escapes of ``text`` and their characters; a high surrogate followed at
    once by a low one is one character; a lone surrogate (no character), a blank and a
    control character stay as written."""
    replacements: list[tuple[int, int, str]] = []
    pending: tuple[int, int, int] | None = None  # a high surrogate: start, end, code
    for match in _STRING_ESCAPE.finditer(text):
        code = int(next(group for group in match.groups() if group is not None), 16)
        if pending is not None and pending[1] == match.start() and 0xDC00 <= code <= 0xDFFF:
            combined = 0x10000 + ((pending[2] - 0xD800) << 10) + (code - 0xDC00)
            replacements.append((pending[0], match.end(), chr(combined)))
            pending = None
            continue
        pending = None
        if 0xD800 <= code <= 0xDBFF:
            pending = (match.start(), match.end(), code)
        elif code <= 0x10FFFF and not 0xDC00 <= code <= 0xDFFF:
            character = chr(code)
            if _visible(character) or (character == " " and _digits_around(text, match)):
                replacements.append((match.start(), match.end(), character))
    return replacements


def _visible(character: str) -> bool:
    """Not a blank nor a control character: an escaped blank inside a value (a salt that
    starts with ``\\u0020``) stays written, or the value would fall apart in two."""
    return not character.isspace() and unicodedata.category(character) != "Cc"


def _digits_around(text: str, match: re.Match[str]) -> bool:
    """Whether a digit stands right before and right after the escape ``match``: an escaped
    blank between digit groups (``536\\u002022\\u00208190``) separates a number's groups."""
    return (
        text[match.start() - 1 : match.start()].isdigit()
        and text[match.end() : match.end() + 1].isdigit()
    )


def _html_replacements(text: str) -> list[tuple[int, int, str]]:
    replacements = []
    for match in _HTML_REFERENCE.finditer(text):
        new = html.unescape(match.group())
        if new != match.group():
            replacements.append((match.start(), match.end(), new))
    return replacements


def _unicode_replacements(text: str) -> list[tuple[int, int, str]]:
    replacements: list[tuple[int, int, str]] = []
    fold_in: dict[int, bool] = {}  # position → fold to upper case (the word is in capitals)
    for word in _WORD_WITH_NON_ASCII.finditer(text):
        letters = [ch for ch in word.group() if ch.isalnum()]
        confusables = [ch for ch in letters if ch in HOMOGLYPHS]
        latin = [ch for ch in letters if ch.isascii() and ch.isalpha()]
        if confusables and (
            latin or any(ch.isdigit() for ch in letters) or len(confusables) == len(letters)
        ):
            upper = len(latin) > 1 and all(ch.isupper() for ch in latin)
            fold_in.update(dict.fromkeys(range(word.start(), word.end()), upper))
    for match in _NON_ASCII.finditer(text):
        ch = match.group()
        position = match.start()
        if position in fold_in and ch in HOMOGLYPHS:
            new = HOMOGLYPHS[ch].upper() if fold_in[position] else HOMOGLYPHS[ch]
        elif ch in NUMBER_SEPARATORS and _between_digits(text, position):
            start, end = position, position + 1
            while start > 0 and text[start - 1] in " \t":
                start -= 1
            while end < len(text) and text[end] in " \t":
                end += 1
            replacements.append((start, end, NUMBER_SEPARATORS[ch]))
            continue
        elif unicodedata.category(ch) in ("Cf", "Mn"):
            new = ""
        else:
            new = unicodedata.normalize("NFKC", ch)
            if new == ch and ch.isdecimal():  # Arabic-Indic, Devanagari … digits: their value
                new = str(unicodedata.decimal(ch))
        if new != ch:
            replacements.append((position, position + 1, new))
    return replacements


def _between_digits(text: str, position: int) -> bool:
    """A digit before ``position`` and after it (a blank on either side allowed)."""
    before = text[max(0, position - 2) : position].rstrip(" \t\u00a0\u2009\u202f")
    after = text[position + 1 : position + 3].lstrip(" \t\u00a0\u2009\u202f")
    return before[-1:].isdigit() and after[:1].isdigit()


def _mixed_number(found: str) -> str | None:
    """``found`` with dashes for its separators, when they differ (or are all slashes, which
    no detector reads between the groups of a number) and its digit groups have the shape
    of a card, an SSN or a phone number; None otherwise."""
    separators = set(_MIXED_SEPARATOR.findall(found))
    if (len(separators) < 2 and separators != {"/"}) or not _number_shaped(found):
        return None
    return str(_MIXED_SEPARATOR.sub("-", found))


def _number_shaped(found: str) -> bool:
    """Whether the digit groups of ``found`` have the shape of a card, an SSN or a phone
    number (:data:`_NUMBER_SHAPES`)."""
    return tuple(len(group) for group in _MIXED_SEPARATOR.split(found)) in _NUMBER_SHAPES


def _glue_replacements(text: str) -> list[tuple[int, int, str]]:
    """A blank for each underscore that glues a number in the shape of a card, an SSN or a
    phone number (:data:`_NUMBER_SHAPES`) to a word."""
    replacements: list[tuple[int, int, str]] = []
    for match in _GLUED_NUMBER.finditer(text):
        if match.group("lead") is None and match.group("trail") is None:
            continue
        if not _number_shaped(match.group("number")):
            continue
        for glue in ("lead", "trail"):
            if match.group(glue) is not None:
                replacements.append((match.start(glue), match.end(glue), " "))
    return replacements


def _spaced_letters(found: str) -> str:
    """Spaced-out letters written together, one blank where the gap was wider."""
    return " ".join("".join(ch for ch in word if ch.isalpha()) for word in _WORD_GAP.split(found))


def _separator_replacements(text: str) -> list[tuple[int, int, str]]:
    replacements: list[tuple[int, int, str]] = []
    for match in _SEPARATORS.finditer(text):
        kind = match.lastgroup
        if kind in ("at", "at_word"):
            new = "@"
        elif kind in ("dot", "dot_word"):
            new = "."
        elif kind == "spelled":
            new = "".join(
                _DIGIT_WORDS[w.group().lower()] for w in _SPELLED_WORD.finditer(match.group())
            )
        elif kind == "mixed":
            mixed = _mixed_number(match.group())
            if mixed is None:
                continue
            new = mixed
        elif kind == "letters":
            new = _spaced_letters(match.group())
        else:  # spaced digits: drop the blanks, keep dashes, dots and slashes as groups
            new = "".join(ch for ch in match.group() if not ch.isspace())
        replacements.append((match.start(), match.end(), new))
    return replacements
