"""Plausibility checks on spans: names (PERSON), phone numbers and e-mail addresses.

**Names.**
The small spaCy model tags many identifiers, table labels and code tokens as people
(``gitlab_TOKEN``, ``null``, ``System.setProperty("X``, ``DISTRIBUTION``). A PERSON span
is dropped when it cannot be a name written in text:

* it holds a character other than letters, spaces, apostrophes, hyphens and periods
  (digits, ``_``, brackets, quotes, slashes, ``=``, line breaks);
* it has no capital letter, or it is a single word in capitals (``RESTRICTED``);
* it lies inside a span of another category (a secret, a marking, source code);
* it is a field label: followed by blanks and a colon (``Longitude : 12``, ``Remarks :``);
* it is code: assigned to (``String KEY = …``), called (``String(s)``, ``Spam(object)``) or
  qualified (``Swift.Bool``, ``Control.Monad``; an initial such as ``J.Smith`` is not);
* it is an item of a packed list: a comma without a space right before it, or right after
  it and followed by a word (``Eumetsat,Roscosmos,Copernicus``), unless an e-mail address or
  a phone number stands on the same line (a CSV row about a person keeps its names);
* a word starts with a lower-case letter, other than name particles (``van``, ``de``, ``bin``
  ...): ``twilioToken``, ``var mattermostToken``;
* it is part of a street address: its last word is a street word (``St``, ``Boulevard``,
  ``Square``), or a house number stands right before it (``4123 Robson``) or right after
  it on the same line (``Kalda 70``, but not a phone number).

**Phone numbers.** Presidio's phone recognizer accepts most digit groups. A PHONE_NUMBER
span is dropped when it overlaps a span of a more specific type (an IP address, a card,
an SSN, an IBAN ...), when it has the shape of one (a dotted quad, ``ddd-dd-dddd``, a
value with ``/``, ``%`` or ``|``) or of a date (``2024-03-12 10``), when it has fewer
than seven digits or more than fifteen (the E.164 maximum: longer runs are card or
account numbers), or when it is a
bare run of digits that no context word ("phone", "call" ...) vouches for, or when a
street name follows it (``099 1463 Horseshoe Lane`` is a house number and a street).

**NHS numbers.** One ten-digit number in eleven passes the NHS check digit, US phone
numbers included: a UK_NHS span that is also a PHONE_NUMBER is dropped when the nearest
context word before it on its line speaks of a phone (``call``, ``phone``, ``office`` ...)
rather than of the NHS (``NHS``, ``national health`` ...).

**Social security numbers.** A US_SSN starting with 9 is an ITIN (reported as such by
its own recognizer), never an SSN: dropped.

**E-mail addresses.** ``https://user:password@host`` holds credentials, not an address:
an EMAIL_ADDRESS span right after ``scheme://user:`` is dropped.
"""

from __future__ import annotations

import regex

from policy_engine.models import DetectedSpan

NAME_TYPES = frozenset({"PERSON"})

_NAME_CHARS = regex.compile(r"[\p{L}\p{M}' .\-\u2019]+")


NAME_PARTICLES = frozenset(
    {"van", "von", "der", "den", "de", "del", "della", "di", "da", "das", "dos", "du", "la",
     "le", "bin", "binti", "ibn", "al", "el", "y", "e", "ter", "ten", "zu"}
)  # fmt: skip
_STREET_WORDS = frozenset(
    {"st", "street", "ave", "avenue", "rd", "road", "lane", "ln", "blvd", "boulevard", "drive",
     "dr", "way", "ways", "court", "ct", "place", "pl", "square", "squares", "village",
     "villages", "shores", "valley", "valleys", "locks", "apt", "suite", "straat", "weg",
     "gasse", "strasse", "utca", "aqq"}
)  # fmt: skip
#: Company designators: a "name" next to one is part of a company's name.
COMPANY_DESIGNATORS = frozenset(
    {"inc", "ltd", "llc", "llp", "plc", "ag", "sa", "nv", "bv", "gmbh", "corp", "co", "kg",
     "oy", "ab", "pty", "limited", "corporation", "company", "holding", "holdings"}
)  # fmt: skip
_DESIGNATOR = (
    r"(?:Inc|Ltd|LLC|LLP|PLC|AG|SA|NV|BV|GmbH|Corp|Co|KG|Oy|AB|Pty|Limited|Corporation"
    r"|Company|Holdings?)"
)
_COMPANY_AFTER = regex.compile(
    rf"(?:['\u2019]s)?(?:[ \t]+\p{{Lu}}[\p{{L}}&.-]*){{0,3}}[ \t]+{_DESIGNATOR}(?![\p{{L}}\d])"
)
_COMPANY_BEFORE = regex.compile(rf"(?<![\p{{L}}\d]){_DESIGNATOR}\.?,?[ \t]+$")
#: A heading: the span alone on its line, followed by a colon.
_HEADING_AFTER = regex.compile(r"[ \t]*:[ \t]*(?:\r?\n|\\n|$)")
_LINE_START = regex.compile(r"(?:^|\n|\\n)[ \t]*$")
_NUMBER_BEFORE = regex.compile(r"(?<![\d.,:/-])(?!(?:19|20)\d\d[ \t])\d{1,6}[ \t]+$")
_NUMBER_AFTER = regex.compile(r"[ \t]+\d{1,5}\b(?![ \t.-]*\d)")


#: Words a name never ends with: a street's or a company's.
_NOT_LAST_WORDS = _STREET_WORDS | COMPANY_DESIGNATORS


def plausible_name(value: str) -> bool:
    if not _NAME_CHARS.fullmatch(value):
        return False
    if not any(ch.isupper() for ch in value):
        return False
    words = value.split()
    if any(w[0].islower() and w not in NAME_PARTICLES for w in words):
        return False
    if words[-1].rstrip(".").lower() in _NOT_LAST_WORDS:
        return False
    return not (len(words) == 1 and len(value) > 2 and value.isupper())


def _in_address(text: str, start: int, end: int) -> bool:
    """A house number right before the span, or right after it on the same line."""
    line_start = text.rfind("\n", 0, start) + 1
    return (
        _NUMBER_BEFORE.search(text, line_start, start) is not None
        or _NUMBER_AFTER.match(text, end) is not None
    )


#: Types whose span wins over an overlapping PHONE_NUMBER.
SPECIFIC_NUMBERS = frozenset(
    {"IP_ADDRESS", "CREDIT_CARD", "US_SSN", "IBAN_CODE", "US_ITIN", "US_BANK_NUMBER", "CRYPTO"}
)
_NOT_A_PHONE = regex.compile(
    r"\d{1,3}(?:\.\d{1,3}){3}|\d{3}[- .]\d{2}[- .]\d{4}|.*[/%|].*|(?:19|20)\d\d-[01]\d-[0-3]\d\b.*"
)
_LABEL_AFTER = regex.compile(r"[ \t\u00a0]+:")
#: Code around a "name": an assignment or a call right after it, a qualifier right before.
_CODE_AFTER = regex.compile(r"[ \t]*[-+*/:]?=(?!=)|\(")
_QUALIFIED_BEFORE = regex.compile(r"\w\w\.$")
_STREET_AFTER = regex.compile(
    r"[ \t]+(?:[A-Z][\p{L}'-]*[ \t]+){1,3}"
    r"(?:St|Street|Ave|Avenue|Rd|Road|Lane|Ln|Blvd|Boulevard|Drive|Dr|Way|Court|Ct|Place|Pl)\b"
)
#: Types that make a line a record about a person (its packed names are kept).
CONTACT_TYPES = frozenset({"EMAIL_ADDRESS", "PHONE_NUMBER"})
_PHONE_BASE_SCORE = 0.4  # Presidio's score for a phone match without context
_EMAIL_LIKE = regex.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_URL_USER = regex.compile(r"[A-Za-z][\w+.-]*://[^\s/@:]*:$")


def plausible_phone(value: str, score: float) -> bool:
    """Not shaped like another number; 7 to 15 digits (E.164); a bare run of digits only
    when a context word ("phone", "call" ...) raised its score."""
    digits = sum(ch.isdigit() for ch in value)
    if not 7 <= digits <= 15 or _NOT_A_PHONE.fullmatch(value) is not None:
        return False
    return not (value.isdigit() and score <= _PHONE_BASE_SCORE)


def filter_implausible(text: str, spans: list[DetectedSpan]) -> list[DetectedSpan]:
    """``spans`` without implausible names, phone numbers, SSNs and e-mail addresses."""
    types = {span.type for span in spans}
    if not types & (NAME_TYPES | {"PHONE_NUMBER", "EMAIL_ADDRESS", "US_SSN"}):
        return spans
    others = [(s.start, s.end) for s in spans if s.category != "pii"]
    specific = [(s.start, s.end) for s in spans if s.type in SPECIFIC_NUMBERS]
    phones = [(s.start, s.end) for s in spans if s.type == "PHONE_NUMBER"]
    dropped = [
        s.type not in NAME_TYPES
        and (_dropped(text, s, specific) or _phone_not_nhs(text, s, phones))
        for s in spans
    ]
    # A line is a record about a person when it holds a contact that is reported (not a
    # card number taken for a phone number).
    contacts = [
        s.start
        for s, out in zip(spans, dropped, strict=True)
        if s.type in CONTACT_TYPES and not out
    ]
    kept = []
    for span, out in zip(spans, dropped, strict=True):
        value = text[span.start : span.end]
        if span.type in NAME_TYPES and (
            not plausible_name(value)
            or _LABEL_AFTER.match(text, span.end) is not None
            or _is_code(text, span.start, span.end)
            or _in_company_name(text, span.start, span.end)
            or _is_heading(text, span.start, span.end)
            or (
                _in_packed_list(text, span.start, span.end)
                and not _contact_on_line(text, span.start, contacts)
            )
            or _in_address(text, span.start, span.end)
            or any(start <= span.start and span.end <= end for start, end in others)
        ):
            continue
        if not out:
            kept.append(span)
    return kept


def _dropped(text: str, span: DetectedSpan, specific: list[tuple[int, int]]) -> bool:
    """Whether a phone number, SSN or e-mail address is implausible (names aside)."""
    value = text[span.start : span.end]
    if span.type == "PHONE_NUMBER":
        return (
            not plausible_phone(value, span.score)
            or _STREET_AFTER.match(text, span.end) is not None
            or any(start < span.end and span.start < end for start, end in specific)
        )
    if span.type == "US_SSN":
        return value.lstrip()[:1] == "9"
    if span.type == "EMAIL_ADDRESS":
        return _after_url_user(text, span.start)
    return False


#: Words before a number that say what it is: a phone, or an NHS number.
_PHONE_OR_NHS_WORD = regex.compile(
    r"\b(?:(?P<nhs>nhs|national\s+health|health\s+service|health\s+authority)"
    r"|(?P<phone>call|calls|called|phone|phones|telephone|tel|mobile|cell|fax|office|dial"
    r"|ring|text|whatsapp|reach|contact))\b",
    regex.IGNORECASE,
)
_CONTEXT_BEFORE = 60


def _phone_not_nhs(text: str, span: DetectedSpan, phones: list[tuple[int, int]]) -> bool:
    """Whether a UK_NHS span is a phone number: a PHONE_NUMBER covers the same digits and
    the nearest context word before it on its line speaks of a phone, not of the NHS."""
    if span.type != "UK_NHS" or not any(
        start < span.end and span.start < end for start, end in phones
    ):
        return False
    line_start = text.rfind("\n", 0, span.start) + 1
    window_start = max(line_start, span.start - _CONTEXT_BEFORE)
    last = None
    for match in _PHONE_OR_NHS_WORD.finditer(text, window_start, span.start):
        last = match
    return last is not None and last.group("phone") is not None


def _in_company_name(text: str, start: int, end: int) -> bool:
    """A company designator after the span (``Hoenle AG``, ``Domino's Pizza Inc.``) or
    right before it (``Holding Ltd. Orchestra``)."""
    return (
        _COMPANY_AFTER.match(text, end) is not None
        or _COMPANY_BEFORE.search(text, max(0, start - 16), start) is not None
    )


def _is_heading(text: str, start: int, end: int) -> bool:
    """The span alone at the start of its line, followed by a colon (``Agenda:``)."""
    return (
        _HEADING_AFTER.match(text, end) is not None
        and _LINE_START.search(text, max(0, start - 80), start) is not None
    )


def _in_packed_list(text: str, start: int, end: int) -> bool:
    """A comma without a space right before the span, or right after it and followed by a
    word: ``Eumetsat,Roscosmos,Copernicus`` is a list of values, not prose."""
    before = text[start - 1 : start] if start else ""
    return before == "," or (text[end : end + 1] == "," and text[end + 1 : end + 2].isalpha())


def _contact_on_line(text: str, start: int, contacts: list[int]) -> bool:
    """A reported e-mail address or phone number on the same line, or an e-mail address
    written there: a record about a person (a CSV row ``Jane,Doe,jane@example.com``),
    whose names are kept."""
    line_start = text.rfind("\n", 0, start) + 1
    line_end = text.find("\n", start)
    line_end = len(text) if line_end < 0 else line_end
    if any(line_start <= at < line_end for at in contacts):
        return True
    # The NER stage checks its names without the pattern stage's findings: an address
    # written on the line counts as well.
    return _EMAIL_LIKE.search(text, line_start, line_end) is not None


def _is_code(text: str, start: int, end: int) -> bool:
    """An assignment or call right after the span, or ``identifier.`` right before it."""
    if _CODE_AFTER.match(text, end) is not None:
        return True
    return _QUALIFIED_BEFORE.search(text, max(0, start - 3), start) is not None


def _after_url_user(text: str, start: int) -> bool:
    """Whether ``text`` just before ``start`` is a URL's ``scheme://user:`` (so the "e-mail
    address" is a password and host). The pattern holds no whitespace, so a match lies in
    the last 256 characters unless they are all non-blank: only then is all text searched
    (searching from 0 on every e-mail made a 100 KB prompt quadratic)."""
    window = max(0, start - 256)
    if _URL_USER.search(text, window, start) is not None:
        return True
    if window == 0 or any(ch.isspace() for ch in text[window : start - 1]):
        return False  # ("$" matches before a final newline too: that one does not count)
    return _URL_USER.search(text, 0, start) is not None
