"""Street addresses as one STREET_ADDRESS span, with ``pyap2``'s address grammar.

The spaCy model sees an address such as ``554 Flores Drive Port Dylan, UT 26249`` as a
few scattered places, when it sees it at all. ``pyap2`` (a maintained fork of ``pyap``,
MIT) is made for finding US, Canadian and British addresses in text: its regular grammar
knows house numbers, 560 street types, units, cities, states and provinces, and postal
codes. Matching its grammar at every position costs about 75 ms per KB, so it runs only
where an address can start:

1. a *street line* (:data:`STREET_LINE`: a house number, one to four capitalised words
   and one of pyap2's street types, or a post-office box) is searched for in the windows
   the pattern stage's prefilter gives it (:meth:`StreetAddressRecognizer.regexes`);
2. at each street line, pyap2's full-address grammar (street, city, state or province,
   postal code) is matched for each country whose postal code (or US state) stands within
   the next 300 characters; the longest match is the address (score ``score``). Without
   one, the street line is the address (``street_score``), unless its number is a year
   after a preposition (``in 1999 Main Street banks …``).

Nothing is fetched: pyap2's grammar is data inside the package.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import cache

import regex
from presidio_analyzer import AnalysisExplanation, LocalRecognizer, RecognizerResult
from presidio_analyzer.nlp_engine import NlpArtifacts

from policy_engine.detection.definitions import COUNTRIES, Country
from policy_engine.detection.results import recognizer_result
from policy_engine.detection.windows import Windowing, finditer

#: Longest full address looked for after a street line's start.
_LONGEST_ADDRESS = 300
_FLAGS = regex.MULTILINE | regex.VERSION0


@cache
def _street_types() -> str:
    """pyap2's US street types (``Street``, ``Ave``, ``Trail`` …) as one alternation."""
    from pyap.source_US.data import street_type_list

    return "|".join(sorted(street_type_list, key=len, reverse=True))


@cache
def _leading_types() -> str:
    """pyap2's street types written before the name (``Rue``, ``Via``, ``Camino``)."""
    from pyap.source_US.data import street_type_leading_list

    return "|".join(sorted(street_type_leading_list, key=len, reverse=True))


_NAME_WORD = r"\p{Lu}[\p{L}'-]{0,30}"


@cache
def street_line() -> str:
    """The street-line regex: a house number and a street (its type after the name, in
    title case or capitals, or before it), or a post-office box."""
    types = _street_types()
    return (
        r"(?<![\w./-])(?:\d{1,6}[A-Za-z]?[ \t]+"
        r"(?:(?:(?:[NSEW]\.?|North|South|East|West)[ \t]+)?"
        rf"{_NAME_WORD}(?:[ \t]+{_NAME_WORD}){{0,3}}[ \t]+(?:{types}|{types.upper()})"
        rf"|(?:{_leading_types()})[ \t]+{_NAME_WORD}(?:[ \t]+{_NAME_WORD}){{0,3}})"
        r"(?![\p{L}\d])\.?"
        r"|(?i:P\.?[ \t]?O\.?[ \t]*Box|Post[ \t]+Office[ \t]+Box)[ \t]+\d{1,6}(?!\d))"
    )


#: A year after a preposition: ``in 1999``, not a house number.
_YEAR_PHRASE = regex.compile(r"(?i:\b(?:in|since|by|of|until|from|before|after)[ \t]+)$")
_YEAR = regex.compile(r"(?:19|20)\d\d[ \t]")


@cache
def _grammar(country: Country) -> re.Pattern[str]:
    """pyap2's full-address grammar of ``country`` (compiled once per process)."""
    from pyap.parser import AddressParser

    return re.compile(AddressParser(country).rules, re.VERBOSE | re.UNICODE)


@cache
def _state_names() -> list[str]:
    """The US states' and territories' names, in title case, read from pyap2's grammar
    (which spells each letter as ``[Aa]`` to match any case)."""
    from pyap.source_US.data import make_region1

    names = []
    for spelled in re.findall(r"((?:\[[A-Z][a-z]\]|\\ |\s)+)(?=[|)])", make_region1()):
        word = re.sub(r"\[([A-Z])[a-z]\]", lambda m: m.group(1).lower(), spelled)
        word = " ".join(word.replace("\\", " ").split())
        if len(word) > 2:
            names.append(re.escape(word.title()))
    return names


@cache
def _tail(country: Country) -> re.Pattern[str]:
    """What a full address of ``country`` needs after its street line: a postal code or
    (US) a state. Its grammar is matched only where this is found near the street line,
    since a failed match costs up to a millisecond (Canada's grammar, most)."""
    if country == "US":
        from pyap.source_US.data import STATE_ABBRS

        abbreviations = "|".join(STATE_ABBRS)
        names = "|".join(_state_names())
        return re.compile(
            rf"(?<!\d)\d{{5}}(?!\d)|(?<![A-Za-z])(?:{abbreviations}|{names})(?![A-Za-z])"
        )
    if country == "CA":
        return re.compile(r"(?<![A-Za-z\d])[A-Za-z]\d[A-Za-z][ -]?\d[A-Za-z]\d(?![A-Za-z\d])")
    return re.compile(r"(?<![A-Za-z\d])[A-Z]{1,2}\d[A-Z\d]?[ \t]*\d[A-Z]{2}(?![A-Za-z\d])")


class StreetAddressRecognizer(LocalRecognizer):
    """Presidio recognizer reporting street addresses as one entity type."""

    def __init__(
        self,
        *,
        name: str,
        entity_type: str = "STREET_ADDRESS",
        countries: Sequence[Country] = COUNTRIES,
        score: float = 0.85,
        street_score: float = 0.6,
    ) -> None:
        self._detector_id = name
        self._entity_type = entity_type
        self._countries = tuple(countries)
        self._score = score
        self._street_score = street_score
        self._street_line = regex.compile(street_line(), _FLAGS)
        super().__init__(supported_entities=[entity_type], name=name, supported_language="en")

    def load(self) -> None:
        """Compile the countries' grammars now (about 0.1 s each), not in a request."""
        for country in self._countries:
            _grammar(country)
            _tail(country)

    @property
    def regexes(self) -> list[tuple[str, int]]:
        """``(source, flags)`` of the street line (for the pattern stage's prefilter)."""
        return [(street_line(), _FLAGS)]

    def analyze(
        self,
        text: str,
        entities: list[str],
        nlp_artifacts: NlpArtifacts | None = None,
    ) -> list[RecognizerResult]:
        """One result per address."""
        if entities and self._entity_type not in entities:
            return []
        return self.analyze_windows(text, None)

    def analyze_windows(
        self, text: str, windowings: Sequence[Windowing | None] | None
    ) -> list[RecognizerResult]:
        """:meth:`analyze`, the street line searched only in ``windowings[0]``."""
        windowing = windowings[0] if windowings else None
        results: list[RecognizerResult] = []
        covered = 0
        for line in finditer(self._street_line, text, windowing):
            start = line.start()
            if start < covered:
                continue
            end, how = self._full_address(text, start, line.end())
            if end <= line.end():
                if self._year_phrase(text, start):
                    continue
                end, how = line.end(), "street"
            covered = end
            results.append(self._result(start, end, how))
        return results

    def _full_address(self, text: str, start: int, line_end: int) -> tuple[int, str]:
        """The end of the longest full address starting at ``start`` (its street line ends
        at ``line_end``) and its country."""
        best, country = start, ""
        limit = min(len(text), start + _LONGEST_ADDRESS)
        for code in self._countries:
            if _tail(code).search(text, line_end, limit) is None:
                continue
            found = _grammar(code).match(text, start, limit)
            if found is not None and found.end() > best:
                best, country = found.end(), code
        while best > start and text[best - 1] in " \t\r\n,;:":
            best -= 1
        return best, country

    @staticmethod
    def _year_phrase(text: str, start: int) -> bool:
        return (
            _YEAR.match(text, start) is not None
            and _YEAR_PHRASE.search(text, max(0, start - 8), start) is not None
        )

    def _result(self, start: int, end: int, how: str) -> RecognizerResult:
        score = self._street_score if how == "street" else self._score
        explanation = AnalysisExplanation(
            recognizer=self._detector_id,
            original_score=score,
            pattern_name="street line" if how == "street" else f"{how} address (pyap2)",
            textual_explanation=(
                "a street line (house number, street, street type)"
                if how == "street"
                else f"a full {how} address (pyap2 grammar)"
            ),
        )
        return recognizer_result(
            self._entity_type,
            start,
            end,
            score,
            explanation,
            name=self._detector_id,
            identifier=self.id,
        )
