"""Presidio's phone recognizer, without the candidates the plausibility filter would drop.

Presidio's ``PhoneRecognizer`` hands every run of digits (``2024``, ``3.5``, the ``8`` of
``ghp_8fK2``) to libphonenumber's matcher, once per region (eight), and parsing the
candidates is most of the pattern stage's cost. Yet the plausibility filter drops every
phone number with fewer than seven digits
(:func:`~policy_engine.detection.plausibility.plausible_phone`), and a number is always
part of its candidate. :func:`plausible_phone_results` therefore skips candidates with
fewer than seven digits without parsing them, and otherwise gives the recognizer's own
results (same spans, scores, explanations).

Skipping is exact: a candidate is libphonenumber's greedy match of digit groups and
separators, so a later candidate that starts inside a skipped one ends where it ends and
holds fewer digits still; the search resumes after it either way. A candidate that the
matcher trims (at ``/ x``, a second number) or that ends in an extension (``ext. 12``: a
candidate starting in the extension's digits could go on past it) is never skipped. One
difference remains by design: the matcher gives up after 65,535 rejected candidates in a
text, and skipped candidates are not counted, so a huge text is searched further than
before (never less).
"""

from __future__ import annotations

from typing import Any

import phonenumbers
from phonenumbers import phonenumbermatcher
from phonenumbers.phonenumberutil import NumberParseException
from presidio_analyzer import EntityRecognizer, RecognizerResult
from presidio_analyzer.predefined_recognizers import PhoneRecognizer

#: Digits a phone number must hold to pass the plausibility filter.
MIN_PHONE_DIGITS = 7

_CANDIDATE = phonenumbermatcher._PATTERN
_SECOND_NUMBER_START = phonenumbermatcher._SECOND_NUMBER_START_PATTERN  # type: ignore[attr-defined]


#: Below this many tries left, candidates are not answered from the cache (so that running
#: out of tries happens exactly where libphonenumber would run out).
_CACHE_MIN_TRIES = 1024

#: A candidate's outcome: (start within the candidate, raw string, number) or None, and the
#: tries it used up.
_Outcome = tuple[tuple[int, str, Any] | None, int]


class _PlausibleMatcher(phonenumbers.PhoneNumberMatcher):
    """``PhoneNumberMatcher`` that does not parse candidates with fewer than 7 digits, and
    parses a candidate seen before (same characters around it) only once."""

    def __init__(self, text: str, region: str, leniency: int, cache: dict[Any, Any]):
        super().__init__(text, region, leniency=leniency)
        self._cache = cache

    def _find(self, index: int) -> Any:
        # libphonenumber's _find, plus the skip and the caches (marked below).
        found = self._candidate(index)
        while self._max_tries > 0 and found is not None:
            start, candidate, few_digits = found
            candidate_len = len(candidate)
            if not few_digits and candidate_len >= self._min_candidate_length:  # skip
                extracted = self._cached_extract(candidate, start)  # cache
                if extracted is not None:
                    return extracted
                self._max_tries -= 1
            index = start + candidate_len
            found = self._candidate(index)
        return None

    def _candidate(self, index: int) -> tuple[int, str, bool] | None:
        """The next candidate from ``index``: start, text (trimmed at a second number) and
        whether it has too few digits to skip; the same for every region, so cached."""
        key = ("candidate", index)
        if key in self._cache:
            cached: tuple[int, str, bool] | None = self._cache[key]
            return cached
        match = _CANDIDATE.search(self.text, index)
        found = None
        if match is not None:
            untrimmed = match.group()
            candidate = self._trim_after_first_match(_SECOND_NUMBER_START, untrimmed)
            few_digits = (
                candidate == untrimmed
                and match.lastindex is None  # no extension ("ext. 12")
                and sum(ch.isdigit() for ch in candidate) < MIN_PHONE_DIGITS
            )
            found = (match.start(), candidate, few_digits)
        self._cache[key] = found
        return found

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


def plausible_phone_results(recognizer: PhoneRecognizer, text: str) -> list[RecognizerResult]:
    """``recognizer.analyze(text)`` minus the numbers with fewer than seven digits."""
    results = []
    cache: dict[Any, Any] = {}  # candidates by search index, outcomes by candidate
    for region in recognizer.supported_regions:
        matcher = _PlausibleMatcher(text, region, recognizer.leniency or 0, cache)
        for match in matcher:
            try:
                parsed = phonenumbers.parse(text[match.start : match.end])
                region = phonenumbers.region_code_for_number(parsed)
            except NumberParseException:
                pass
            results.append(recognizer._get_recognizer_result(match, text, region, None))  # type: ignore[no-untyped-call]
    return list(EntityRecognizer.remove_duplicates(results))
