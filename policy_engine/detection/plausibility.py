"""Plausibility checks on spans: names (PERSON), phone numbers and e-mail addresses.

**Names.**
The small spaCy model tags many identifiers, table labels and code tokens as people
(``gitlab_TOKEN``, ``null``, ``System.setProperty("X``, ``DISTRIBUTION``). A PERSON span
is dropped when it cannot be a name written in text:

* it holds a character other than letters, spaces, apostrophes, hyphens and periods
  (digits, ``_``, brackets, quotes, slashes, ``=``, line breaks);
* it has no capital letter, or it is a single word in capitals (``RESTRICTED``);
* it lies inside a span of another category (a secret, a marking, source code);
* it is a field label: followed by blanks and a colon (``Longitude : 12``, ``Remarks :``).

**Phone numbers.** Presidio's phone recognizer accepts most digit groups. A PHONE_NUMBER
span is dropped when it overlaps a span of a more specific type (an IP address, a card,
an SSN, an IBAN ...), when it has the shape of one (a dotted quad, ``ddd-dd-dddd``, a
value with ``/``, ``%`` or ``|``), when it has fewer than seven digits, or when it is a
bare run of digits that no context word ("phone", "call" ...) vouches for.

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


def plausible_name(value: str) -> bool:
    if not _NAME_CHARS.fullmatch(value):
        return False
    if not any(ch.isupper() for ch in value):
        return False
    words = value.split()
    return not (len(words) == 1 and len(value) > 2 and value.isupper())


#: Types whose span wins over an overlapping PHONE_NUMBER.
SPECIFIC_NUMBERS = frozenset(
    {"IP_ADDRESS", "CREDIT_CARD", "US_SSN", "IBAN_CODE", "US_ITIN", "US_BANK_NUMBER", "CRYPTO"}
)
_NOT_A_PHONE = regex.compile(r"\d{1,3}(?:\.\d{1,3}){3}|\d{3}[- .]\d{2}[- .]\d{4}|.*[/%|].*")
_LABEL_AFTER = regex.compile(r"[ \t\u00a0]+:")
_PHONE_BASE_SCORE = 0.4  # Presidio's score for a phone match without context
_URL_USER = regex.compile(r"[A-Za-z][\w+.-]*://[^\s/@:]*:$")


def plausible_phone(value: str, score: float) -> bool:
    """Not shaped like another number; seven digits or more; a bare run of digits only
    when a context word ("phone", "call" ...) raised its score."""
    digits = sum(ch.isdigit() for ch in value)
    if digits < 7 or _NOT_A_PHONE.fullmatch(value) is not None:
        return False
    return not (value.isdigit() and score <= _PHONE_BASE_SCORE)


def filter_implausible(text: str, spans: list[DetectedSpan]) -> list[DetectedSpan]:
    """``spans`` without implausible names, phone numbers, SSNs and e-mail addresses."""
    types = {span.type for span in spans}
    if not types & (NAME_TYPES | {"PHONE_NUMBER", "EMAIL_ADDRESS", "US_SSN"}):
        return spans
    others = [(s.start, s.end) for s in spans if s.category != "pii"]
    specific = [(s.start, s.end) for s in spans if s.type in SPECIFIC_NUMBERS]
    kept = []
    for span in spans:
        value = text[span.start : span.end]
        if span.type in NAME_TYPES and (
            not plausible_name(value)
            or _LABEL_AFTER.match(text, span.end) is not None
            or any(start <= span.start and span.end <= end for start, end in others)
        ):
            continue
        if span.type == "PHONE_NUMBER" and (
            not plausible_phone(value, span.score)
            or any(start < span.end and span.start < end for start, end in specific)
        ):
            continue
        if span.type == "US_SSN" and value.lstrip()[:1] == "9":
            continue
        if span.type == "EMAIL_ADDRESS" and _after_url_user(text, span.start):
            continue
        kept.append(span)
    return kept


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
