"""The analysis of the ``patterns`` backend: Presidio's results, without Presidio's engine.

Presidio's ``AnalyzerEngine`` tokenizes the whole text (a spaCy ``Doc`` of every word),
runs every recognizer over all of it and then, per result, looks up its context words in
a list of every keyword of the text. On a 100 KB prompt that is most of a second.
:class:`PatternEngine` computes the same results (same spans, scores, explanations and
recognizer ids) with less work:

* context words are read from the few words before each result only
  (:func:`~policy_engine.detection.context.surrounding_words`), with no ``Doc``;
* one hyperscan pass finds where each regex can match, and the regex runs only there
  (:mod:`.prefilter`; YAML recognizers and Presidio's regex recognizers alike); the IBAN
  recognizer, which has an ``analyze`` of its own, is not called where none of its
  regexes can match;
* with ``plausible_only`` (what ``detect`` uses), the phone recognizer does not parse
  candidates that the plausibility filter would drop anyway (:mod:`.phones`): those with
  fewer than seven digits, and those inside the span of a card, SSN, IBAN, IP address ...
  that the other recognizers found (with scores that pass ``span_threshold``, the
  detector's thresholds) (a phone number overlapping one is dropped: it runs last,
  its results keep their place); ``explain`` runs it unchanged, as Presidio does.

Everything else follows ``AnalyzerEngine.analyze`` step by step: recognizers in registry
order, context enhancement, score thresholds, ``EntityRecognizer.remove_duplicates``.
The reference (Presidio's engine over the same recognizers) stays available as
``PatternDetector(detector_set, reference=True)``; a differential test compares both.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from presidio_analyzer import EntityRecognizer, PatternRecognizer, RecognizerResult
from presidio_analyzer.context_aware_enhancers import ContextAwareEnhancer
from presidio_analyzer.predefined_recognizers import PhoneRecognizer

from policy_engine.detection import presidio_patterns
from policy_engine.detection.context import ENHANCER_SETTINGS, find_context_word
from policy_engine.detection.phones import plausible_phone_results
from policy_engine.detection.plausibility import SPECIFIC_NUMBERS
from policy_engine.detection.prefilter import Prefilter
from policy_engine.detection.prefilter_store import PrefilterStore
from policy_engine.detection.recognizers import YamlPatternRecognizer
from policy_engine.detection.street_address import StreetAddressRecognizer

#: Recognizers that give the prefilter their regexes and search only its windows.
WINDOWED = (YamlPatternRecognizer, StreetAddressRecognizer)

_ID = RecognizerResult.RECOGNIZER_IDENTIFIER_KEY
_NAME = RecognizerResult.RECOGNIZER_NAME_KEY
_ENHANCED = RecognizerResult.IS_SCORE_ENHANCED_BY_CONTEXT_KEY

#: Presidio's ``LemmaContextAwareEnhancer`` defaults (what the reference engine uses).
CONTEXT_FACTOR: float = ENHANCER_SETTINGS.context_similarity_factor
MIN_SCORE_WITH_CONTEXT: float = ENHANCER_SETTINGS.min_score_with_context_similarity


class PatternEngine:
    """Runs pattern recognizers over a text like ``AnalyzerEngine.analyze`` would."""

    def __init__(
        self,
        recognizers: Sequence[EntityRecognizer],
        *,
        plausible_only: bool,
        span_threshold: Callable[[str], float],
        store: PrefilterStore | None = None,
    ) -> None:
        self._recognizers = list(recognizers)
        self._plausible_only = plausible_only
        #: The score a result of a type needs to become a span (the detector's analysis
        #: thresholds, applied after this engine): knows which numbers will be spans.
        self._span_threshold = span_threshold
        self._by_id = {recognizer.id: recognizer for recognizer in self._recognizers}
        self._thresholds = {r.id: r.score_thresholds for r in self._recognizers}
        # Prefilter keys of each windowed recognizer's patterns, in pattern order.
        self._keys: dict[str, list[int]] = {}
        # Recognizers the prefilter only gates (their analyze runs on the whole text).
        self._whole_when_hit: set[str] = set()
        sources: list[tuple[str, int]] = []
        for recognizer in self._recognizers:
            if isinstance(recognizer, WINDOWED):
                found = recognizer.regexes
            elif presidio_patterns.handles(recognizer):
                assert isinstance(recognizer, PatternRecognizer)
                found = presidio_patterns.regexes(recognizer)
            elif presidio_patterns.gated_only(recognizer):
                assert isinstance(recognizer, PatternRecognizer)
                found = presidio_patterns.regexes(recognizer)
                self._whole_when_hit.add(recognizer.id)
            else:
                continue
            self._keys[recognizer.id] = list(range(len(sources), len(sources) + len(found)))
            sources.extend(found)
        self._prefilter = Prefilter(sources, store)

    def analyze(
        self,
        *,
        text: str,
        language: str,
        entities: list[str],
        return_decision_process: bool = False,
    ) -> list[RecognizerResult]:
        """Results for ``entities`` in ``text`` (``AnalyzerEngine.analyze``'s arguments)."""
        results: list[RecognizerResult] = []
        plausible_only = self._plausible_only and not return_decision_process
        hits = self._prefilter.scan(text)
        phones: list[tuple[int, PhoneRecognizer]] = []  # run last, results put back in place
        for recognizer in self._recognizers:
            keys = self._keys.get(recognizer.id)
            if plausible_only and isinstance(recognizer, PhoneRecognizer):
                phones.append((len(results), recognizer))
                continue
            windowings = None
            if hits is not None and keys is not None:
                windowings = [hits.windowing(key) for key in keys]
                if all(w is not None and not w.windows for w in windowings):
                    continue  # no pattern of it can match anywhere in the text
            if windowings is None or recognizer.id in self._whole_when_hit:
                found = recognizer.analyze(text=text, entities=entities, nlp_artifacts=None)  # type: ignore[arg-type]
            elif isinstance(recognizer, WINDOWED):
                found = recognizer.analyze_windows(text, windowings)
            else:
                assert isinstance(recognizer, PatternRecognizer)
                found = presidio_patterns.pattern_results(recognizer, text, windowings)
            results.extend(_labelled(found or (), recognizer))
        seen: dict[int, set[str]] = {}  # surrounding words by start, for this text only
        self._enhance(text, results, seen)
        if phones:
            inside = self._number_spans(results)
            for index, recognizer in reversed(phones):  # later places first: indexes hold
                found = _labelled(plausible_phone_results(recognizer, text, inside), recognizer)
                self._enhance(text, found, seen)
                results[index:index] = found
        results = [r for r in results if r.score >= self._threshold(r)]
        results = EntityRecognizer.remove_duplicates(results)
        if not return_decision_process:
            for result in results:
                result.analysis_explanation = None  # type: ignore[assignment]
        return results

    def _enhance(
        self, text: str, results: list[RecognizerResult], seen: dict[int, set[str]]
    ) -> None:
        """Raise the score of results with a context word of their recognizer nearby
        (``seen``: the surrounding words of the starts looked at in ``text`` so far)."""
        for result in results:
            recognizer = self._by_id.get(result.recognition_metadata[_ID])
            if recognizer is None or not recognizer.context:
                continue
            if result.recognition_metadata.get(_ENHANCED):
                continue
            word = find_context_word(text, result.start, recognizer.context, seen)
            if word:
                result.score += CONTEXT_FACTOR
                result.score = max(result.score, MIN_SCORE_WITH_CONTEXT)
                result.score = min(result.score, ContextAwareEnhancer.MAX_SCORE)
                if result.analysis_explanation is not None:
                    result.analysis_explanation.set_supportive_context_word(word)
                    result.analysis_explanation.set_improved_score(result.score)

    def _number_spans(self, results: list[RecognizerResult]) -> list[tuple[int, int]]:
        """The spans that will be reported for a card, SSN, IBAN, IP address ...
        (:data:`~policy_engine.detection.plausibility.SPECIFIC_NUMBERS`), merged where they
        overlap: the results whose score passes this engine's and the detector's
        thresholds (``remove_duplicates`` only drops results inside another of their type,
        so the merged spans stay the same)."""
        spans = sorted(
            (r.start, r.end)
            for r in results
            if r.entity_type in SPECIFIC_NUMBERS
            and r.score > 0
            and r.score >= self._threshold(r)
            and r.score >= self._span_threshold(r.entity_type)
        )
        merged: list[tuple[int, int]] = []
        for start, end in spans:
            if merged and start <= merged[-1][1]:
                merged[-1] = (merged[-1][0], max(merged[-1][1], end))
            else:
                merged.append((start, end))
        return merged

    def _threshold(self, result: RecognizerResult) -> float:
        thresholds = self._thresholds.get(result.recognition_metadata[_ID])
        if thresholds is None:
            return 0.0
        value = thresholds.get(result.entity_type, thresholds.get("default"))
        return 0.0 if value is None else value


def _labelled(
    found: Sequence[RecognizerResult], recognizer: EntityRecognizer
) -> list[RecognizerResult]:
    """``found`` with the recognizer's id and name in their metadata (as Presidio does)."""
    for result in found:
        if not result.recognition_metadata:
            result.recognition_metadata = {}
        if _ID not in result.recognition_metadata:
            result.recognition_metadata[_ID] = recognizer.id
        if _NAME not in result.recognition_metadata:
            name: str = recognizer.name  # type: ignore[has-type]
            result.recognition_metadata[_NAME] = name
    return list(found)
