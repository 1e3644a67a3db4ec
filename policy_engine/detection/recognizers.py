"""Presidio recognizers built from YAML definitions.

:class:`YamlPatternRecognizer` is a Presidio ``PatternRecognizer`` whose matching we own:

* a pattern with a named group ``value`` reports only that group (``api_key=<value>``);
* a matched value is dropped when it is on the ``allow_list``, fully matches an
  ``allow_patterns`` regex, fails the ``validator`` or has less than ``min_entropy``;
* a match's score drops by ``negative_context_penalty`` when one of the
  ``negative_context`` words stands among the five words before it on its line;
* every regex runs with a time limit, and running out of time raises
  :class:`~policy_engine.errors.DetectionError` (the decision then fails closed) where
  Presidio would log a warning and silently skip the pattern.

Deny lists become one alternation pattern of the same class; ``kind: source_code`` becomes
a :class:`~policy_engine.detection.source_code.SourceCodeRecognizer`, ``kind:
street_address`` a :class:`~policy_engine.detection.street_address.StreetAddressRecognizer`.
Each recognizer is named by its detector id, ``yaml:<file stem>/<recognizer id>``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import regex
from presidio_analyzer import (
    AnalysisExplanation,
    EntityRecognizer,
    Pattern,
    PatternRecognizer,
    RecognizerResult,
)
from presidio_analyzer.nlp_engine import NlpArtifacts

from policy_engine.detection.definitions import (
    REGEX_FLAGS,
    VALUE_GROUP,
    DenyListRecognizerDef,
    LoadedRecognizer,
    PatternRecognizerDef,
    SourceCodeRecognizerDef,
    StreetAddressRecognizerDef,
    compile_regex,
)
from policy_engine.detection.results import recognizer_result
from policy_engine.detection.source_code import CodeHeuristic, SourceCodeRecognizer
from policy_engine.detection.street_address import StreetAddressRecognizer
from policy_engine.detection.validators import VALIDATORS, shannon_entropy
from policy_engine.detection.windows import Windowing, finditer
from policy_engine.errors import DetectionError

#: Time limit for one pattern over one text. Linear patterns take milliseconds even on
#: 100 KB; running out means catastrophic backtracking, and detection fails closed.
REGEX_TIMEOUT_SECONDS = 2.0

#: How many words before a match are searched for negative context words.
NEGATIVE_CONTEXT_WORDS = 5
_WORD = regex.compile(r"\w+")


@dataclass(frozen=True)
class ValueFilter:
    """Decides whether a matched value is reported (known placeholders are not)."""

    allow_list: frozenset[str] = frozenset()
    allow_patterns: tuple[regex.Pattern[str], ...] = ()
    validator: Callable[[str], bool] | None = None
    min_entropy: float | None = None

    def accepts(self, value: str) -> bool:
        if value.casefold() in self.allow_list:
            return False
        if any(p.fullmatch(value, timeout=REGEX_TIMEOUT_SECONDS) for p in self.allow_patterns):
            return False
        if self.validator is not None and not self.validator(value):
            return False
        return self.min_entropy is None or shannon_entropy(value) >= self.min_entropy


class YamlPatternRecognizer(PatternRecognizer):
    """Regex recognizer with value groups, allow lists, validators and a hard time limit."""

    def __init__(
        self,
        *,
        name: str,
        entity_type: str,
        patterns: Sequence[Pattern],
        context: Sequence[str] = (),
        value_filter: ValueFilter | None = None,
        flags: int = REGEX_FLAGS,
        negative_context: Sequence[str] = (),
        negative_context_penalty: float = 0.35,
    ) -> None:
        super().__init__(
            supported_entity=entity_type,
            name=name,
            supported_language="en",
            patterns=list(patterns),
            context=list(context),
            global_regex_flags=flags,
        )
        self._detector_id = name
        self._entity_type = entity_type
        self._flags = flags
        self._compiled = [(p, compile_regex(p.regex, flags=flags)) for p in patterns]
        self._filter = value_filter or ValueFilter()
        self._negative = frozenset(word.casefold() for word in negative_context)
        self._penalty = negative_context_penalty

    def analyze(
        self,
        text: str,
        entities: list[str],
        nlp_artifacts: NlpArtifacts | None = None,
        regex_flags: int | None = None,
    ) -> list[RecognizerResult]:
        """Every accepted match of every pattern (contained duplicates removed)."""
        return self.analyze_windows(text, None)

    @property
    def regexes(self) -> list[tuple[str, int]]:
        """``(source, flags)`` of each pattern, in order (for a :class:`.prefilter.Prefilter`)."""
        return [(pattern.regex, self._flags) for pattern, _ in self._compiled]

    def analyze_windows(
        self, text: str, windowings: Sequence[Windowing | None] | None
    ) -> list[RecognizerResult]:
        """:meth:`analyze`, pattern ``i`` searching only ``windowings[i]`` (all of ``text``
        when that is None): the same results when the windows come from a prefilter."""
        results: list[RecognizerResult] = []
        for index, (pattern, compiled) in enumerate(self._compiled):
            windowing = windowings[index] if windowings is not None else None
            try:
                # concurrent=True releases the GIL, so a slow pattern cannot stall the other
                # threads (nor the scan deadline that gives up on it).
                matches = finditer(
                    compiled, text, windowing, concurrent=True, timeout=REGEX_TIMEOUT_SECONDS
                )
                for match in matches:
                    result = self._result(text, pattern, match)
                    if result is not None:
                        results.append(result)
            except TimeoutError:
                raise DetectionError(
                    f"detector {self._detector_id}: pattern {pattern.name!r} ran out of time "
                    f"({REGEX_TIMEOUT_SECONDS:g} s)"
                ) from None
        return list(EntityRecognizer.remove_duplicates(results))

    def _negative_word_before(self, text: str, start: int) -> bool:
        return any(word in self._negative for word in _words_before(text, start))

    def _result(
        self, text: str, pattern: Pattern, match: regex.Match[str]
    ) -> RecognizerResult | None:
        start, end = match.span()
        if VALUE_GROUP in match.re.groupindex and match.start(VALUE_GROUP) >= 0:
            start, end = match.span(VALUE_GROUP)
        if start == end or not self._filter.accepts(text[start:end]):
            return None
        explanation = AnalysisExplanation(
            recognizer=self._detector_id,
            original_score=pattern.score,
            pattern_name=pattern.name,
            pattern=pattern.regex,
            regex_flags=self._flags,
            textual_explanation=f"Detected by `{self._detector_id}` using pattern `{pattern.name}`",
            validation_result=self._filter.validator is not None,
        )
        score = pattern.score
        if self._negative and self._negative_word_before(text, start):
            score = max(0.01, round(score - self._penalty, 4))
            explanation.set_improved_score(score)
        return recognizer_result(
            self._entity_type,
            start,
            end,
            score,
            explanation,
            name=self._detector_id,
            identifier=self.id,
        )


def _words_before(text: str, start: int, count: int = NEGATIVE_CONTEXT_WORDS) -> list[str]:
    """The last ``count`` words before ``start`` on the same line, lower-cased."""
    line_start = text.rfind("\n", 0, start) + 1
    window = max(line_start, start - 120)
    return [w.casefold() for w in _WORD.findall(text, window, start)][-count:]


def deny_list_regex(terms: Sequence[str], *, whole_word: bool) -> str:
    """One alternation of the escaped terms, longest first, optionally at word edges."""
    ordered = sorted(set(terms), key=lambda term: (-len(term), term))
    body = "|".join(regex.escape(term) for term in ordered)
    return rf"(?<!\w)(?:{body})(?!\w)" if whole_word else f"(?:{body})"


def build_recognizer(loaded: LoadedRecognizer) -> EntityRecognizer:
    """The Presidio recognizer for one YAML definition."""
    definition = loaded.definition
    name = loaded.detector_id
    if isinstance(definition, PatternRecognizerDef):
        value_filter = ValueFilter(
            allow_list=frozenset(value.casefold() for value in definition.allow_list),
            allow_patterns=tuple(compile_regex(p) for p in definition.allow_patterns),
            validator=VALIDATORS[definition.validator] if definition.validator else None,
            min_entropy=definition.min_entropy,
        )
        return YamlPatternRecognizer(
            name=name,
            entity_type=definition.entity_type,
            patterns=[Pattern(p.name, p.regex, p.score) for p in definition.patterns],
            context=definition.context,
            value_filter=value_filter,
            negative_context=definition.negative_context,
            negative_context_penalty=definition.negative_context_penalty,
        )
    if isinstance(definition, DenyListRecognizerDef):
        flags = REGEX_FLAGS if definition.case_sensitive else REGEX_FLAGS | regex.IGNORECASE
        pattern = Pattern(
            "deny_list",
            deny_list_regex(definition.deny_list, whole_word=definition.whole_word),
            definition.score,
        )
        return YamlPatternRecognizer(
            name=name,
            entity_type=definition.entity_type,
            patterns=[pattern],
            context=definition.context,
            flags=flags,
            negative_context=definition.negative_context,
            negative_context_penalty=definition.negative_context_penalty,
        )
    if isinstance(definition, SourceCodeRecognizerDef):
        params = CodeHeuristic(
            min_lines=definition.min_lines,
            line_threshold=definition.line_threshold,
            dense_line_threshold=definition.dense_line_threshold,
            dense_line_min_chars=definition.dense_line_min_chars,
            max_blank_lines=definition.max_blank_lines,
        )
        return SourceCodeRecognizer(
            name=name,
            entity_type=definition.entity_type,
            params=params,
            score=definition.score,
            single_line_score=definition.single_line_score,
        )
    if isinstance(definition, StreetAddressRecognizerDef):
        return StreetAddressRecognizer(
            name=name,
            entity_type=definition.entity_type,
            countries=definition.countries,
            score=definition.score,
            street_score=definition.street_score,
        )
    raise TypeError(f"unknown recognizer definition {type(definition).__name__}")
