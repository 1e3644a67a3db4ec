"""Presidio's phone recognizer, without the candidates the plausibility filter would drop.

Presidio's ``PhoneRecognizer`` hands every run of digits (``2024``, ``3.5``, the ``8`` of
``ghp_8fK2``) to libphonenumber's matcher, once per region (eight), and parsing the
candidates is most of the pattern stage's cost. Yet the plausibility filter drops every
phone number with fewer than seven digits
(:func:`~policy_engine.detection.plausibility.plausible_phone`), and a number is always
part of its candidate. :func:`plausible_phone_results` therefore skips candidates with
fewer than seven digits without parsing them, and otherwise gives the recognizer's own
results (same spans, scores, explanations).

It also parses each candidate for fewer regions. Results of all regions are merged, and a
result contained in another of the same score is dropped, the first region's one kept. So
once a region has matched a whole candidate, what a later region finds in that candidate is
dropped anyway, and that region moves on past the candidate either way (see below): the
later regions skip it. Each span found is also parsed once for its region code, not once
per region that found it.

Skipping is exact: a candidate is libphonenumber's greedy match of digit groups and
separators, so a later candidate that starts inside a skipped one ends where it ends and
holds fewer digits still; the search resumes after it either way. A candidate that the
matcher trims (at ``/ x``, a second number) or that ends in an extension (``ext. 12``: a
candidate starting in the extension's digits could go on past it) is never skipped. One
difference remains by design: the matcher gives up after 65,535 rejected candidates in a
text, and skipped candidates are not counted, so a huge text is searched further than
before (never less).

A candidate matched whole by an earlier region is skipped under the same conditions (not
trimmed, no extension): a later region's match inside it ends inside it, the candidates
after that match start inside it and so end where it ends, and the search resumes at its
end, where the earlier region's resumed.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Sequence
from typing import Any

import phonenumbers
from phonenumbers import phonenumbermatcher
from phonenumbers.phonenumberutil import NumberParseException
from presidio_analyzer import EntityRecognizer, RecognizerResult
from presidio_analyzer.predefined_recognizers import PhoneRecognizer

#: Digits a phone number must hold to pass the plausibility filter.
MIN_PHONE_DIGITS = 7

_CANDIDATE = phonenumbermatcher._PATTERN
_DIGIT = re.compile(r"\d")
_SECOND_NUMBER_START = phonenumbermatcher._SECOND_NUMBER_START_PATTERN  # type: ignore[attr-defined]


#: Below this many tries left, candidates are not answered from the cache (so that running
#: out of tries happens exactly where libphonenumber would run out).
_CACHE_MIN_TRIES = 1024


class _PlausibleMatcher(phonenumbers.PhoneNumberMatcher):
    """``PhoneNumberMatcher`` that does not parse candidates with fewer than 7 digits or
    inside ``numbers`` (merged spans of cards, SSNs, IBANs ...), and parses a candidate seen
    before (same characters around it) only once."""

    def __init__(
        self,
        text: str,
        region: str,
        leniency: int,
        cache: dict[Any, Any],
        numbers: Sequence[tuple[int, int]] = (),
    ):
        super().__init__(text, region, leniency=leniency)
        self._cache = cache
        self._numbers = numbers
        self._number_starts = [start for start, _ in numbers]

    def _find(self, index: int) -> Any:
        # libphonenumber's _find, plus the skips and the caches (marked below).
        found = self._candidate(index)
        while self._max_tries > 0 and found is not None:
            start, candidate, plain, skip = found
            candidate_len = len(candidate)
            matched_whole = ("whole", start) in self._cache
            if not skip and not matched_whole and candidate_len >= self._min_candidate_length:
                extracted = self._cached_extract(candidate, start)  # cache
                if extracted is not None:
                    whole = (extracted.start, extracted.end) == (start, start + candidate_len)
                    if plain and whole:
                        self._cache["whole", start] = True  # later regions skip it
                    return extracted
                self._max_tries -= 1
            index = start + candidate_len
            found = self._candidate(index)
        return None

    def _candidate(self, index: int) -> tuple[int, str, bool, bool] | None:
        """The next candidate from ``index``: start, text (trimmed at a second number),
        whether it is plain (neither trimmed nor with an extension) and whether it is plain
        and skipped: too few digits, or inside one of ``numbers`` with at most 20 digits
        (so at most 20 digit groups: the pattern's cap of 21 did not end it, and a
        candidate starting inside it ends where it ends); the same for every region, so
        cached."""
        key = ("candidate", index)
        if key in self._cache:
            cached: tuple[int, str, bool, bool] | None = self._cache[key]
            return cached
        match = _CANDIDATE.search(self.text, index)
        found = None
        if match is not None:
            untrimmed = match.group()
            candidate = self._trim_after_first_match(_SECOND_NUMBER_START, untrimmed)
            plain = candidate == untrimmed and match.lastindex is None  # no "ext. 12"
            digits = sum(ch.isdigit() for ch in candidate)
            start = match.start()
            skip = plain and (
                digits < MIN_PHONE_DIGITS
                or (digits <= 20 and self._in_number(start, start + len(candidate)))
            )
            found = (start, candidate, plain, skip)
        self._cache[key] = found
        return found

    def _in_number(self, start: int, end: int) -> bool:
        """Whether ``start:end`` lies inside one of the merged ``numbers`` spans."""
        index = bisect_right(self._number_starts, start) - 1
        return index >= 0 and end <= self._numbers[index][1]

    def _cached_extract(self, candidate: str, offset: int) -> Any:
        """``_extract_match``, answered from the cache when the candidate and everything the
        matcher looks at around it (the character before, three after) were seen before."""
        if self._max_tries < _CACHE_MIN_TRIES:
            return self._extract_match(candidate, offset)
        end = offset + len(candidate)
        key = (
            self.preferred_region,
            self.leniency,
            candidate,
            self.text[offset - 1] if offset > 0 else None,
            self.text[end : end + 3],
        )
        outcome = self._cache.get(key)
        if outcome is None:
            tries = self._max_tries
            extracted = self._extract_match(candidate, offset)
            found = None
            if extracted is not None:
                found = (extracted.start - offset, extracted.raw_string, extracted.number)
            outcome = (found, tries - self._max_tries)
            self._cache[key] = outcome
            return extracted
        found, used = outcome
        self._max_tries -= used
        if found is None:
            return None
        return phonenumbers.PhoneNumberMatch(offset + found[0], found[1], found[2])


def plausible_phone_results(
    recognizer: PhoneRecognizer, text: str, numbers: Sequence[tuple[int, int]] = ()
) -> list[RecognizerResult]:
    """``recognizer.analyze(text)`` minus the numbers with fewer than seven digits and
    those inside ``numbers`` (sorted, merged spans of other numbers: a phone number that
    overlaps one is dropped by the plausibility filter)."""
    if not _has_digit(text):
        return []  # every candidate holds a digit (\d of libphonenumber's pattern)
    results = []
    cache: dict[Any, Any] = {}  # candidates by search index, outcomes by candidate
    parsed_regions: dict[tuple[int, int], tuple[bool, Any]] = {}  # span → (parses, region)
    for region in recognizer.supported_regions:
        matcher = _PlausibleMatcher(text, region, recognizer.leniency or 0, cache, numbers)
        for match in matcher:
            span = (match.start, match.end)
            first = span not in parsed_regions  # a later duplicate would be dropped anyway
            if first:
                parsed_regions[span] = _number_region(text[match.start : match.end])
            # The recognizer's own quirk, kept: a span that does not parse is explained
            # with the region of the last span that did (or the matcher's).
            parses, number_region = parsed_regions[span]
            if parses:
                region = number_region
            if first:
                results.append(recognizer._get_recognizer_result(match, text, region, None))  # type: ignore[no-untyped-call]
    return list(EntityRecognizer.remove_duplicates(results))


def _has_digit(text: str) -> bool:
    """Whether ``\\d`` matches in ``text`` (for plain ASCII, ten substring searches in C)."""
    if text.isascii():
        return any(digit in text for digit in "0123456789")
    return _DIGIT.search(text) is not None


def _number_region(raw: str) -> tuple[bool, Any]:
    """Whether ``raw`` parses without a default region, and then its number's region."""
    try:
        return True, phonenumbers.region_code_for_number(phonenumbers.parse(raw))
    except NumberParseException:
        return False, None
