"""What both backends share: recognizers run by one analyzer, results turned into spans.

:class:`AnalyzerDetector` builds everything once (recognizers, analyzer, the list of
entity types, who reported what) and does nothing per call but the analysis and a
conversion. The analyzer is Presidio's ``AnalyzerEngine`` on the given NLP engine, or,
without one, :class:`~policy_engine.detection.pattern_engine.PatternEngine` (same
results, pattern recognizers only, much less work). Results are filtered by the score
thresholds of the detectors directory, deduplicated (several results for one span survive
only if their entity types differ) and sorted by (start, end, type).

``detect`` may be called from several threads: the analyzer runs under a lock, because
neither the spaCy pipeline nor Presidio promises thread safety.
"""

from __future__ import annotations

import threading
from typing import Any

from presidio_analyzer import AnalyzerEngine, EntityRecognizer, RecognizerResult
from presidio_analyzer.nlp_engine import NlpEngine
from presidio_analyzer.recognizer_registry import RecognizerRegistry

from policy_engine.detection.builtins import NER_ENTITIES, builtin_recognizers
from policy_engine.detection.context import IndexedContextEnhancer
from policy_engine.detection.definitions import DetectorSet
from policy_engine.detection.evasion import scan
from policy_engine.detection.explain import span_of
from policy_engine.detection.pattern_engine import PatternEngine
from policy_engine.detection.plausibility import filter_implausible
from policy_engine.detection.prefilter_store import PrefilterStore
from policy_engine.detection.recognizers import build_recognizer
from policy_engine.errors import DetectionError
from policy_engine.models import Category, DetectedSpan

LANGUAGE = "en"

#: Scanned once at construction so that lazy set-up (regex compilation, the suffix list
#: of the e-mail check, the hyperscan gates of long lines) happens before the first request.
_WARM_UP_TEXT = "Warm-up: write to ops@example.com.\nconst ready = true;\n" + "a long line " * 90


class AnalyzerDetector:
    """A :class:`~policy_engine.ports.Detector` on one Presidio analyzer."""

    def __init__(
        self,
        *,
        backend: str,
        detector_set: DetectorSet,
        nlp_engine: NlpEngine | None,
        with_ner: bool,
        store: PrefilterStore | None = None,
    ) -> None:
        self.backend = backend
        self.detector_set = detector_set
        analysis = detector_set.analysis
        builtins = builtin_recognizers(analysis.builtin_entities, with_ner=with_ner)
        yaml_recognizers = [build_recognizer(loaded) for loaded in detector_set.recognizers]
        self._origin: dict[str, tuple[str, Category]] = {}
        for name, recognizer in builtins:
            self._origin[recognizer.id] = (f"presidio:{name}", "pii")
        for loaded, recognizer in zip(detector_set.recognizers, yaml_recognizers, strict=True):
            self._origin[recognizer.id] = (loaded.detector_id, loaded.definition.category)
        self.skipped_entities: tuple[str, ...] = tuple(
            sorted(e for e in analysis.builtin_entities if e in NER_ENTITIES and not with_ner)
        )
        self.entity_types: tuple[str, ...] = tuple(
            sorted(
                {e for e in analysis.builtin_entities if e not in self.skipped_entities}
                | {loaded.definition.entity_type for loaded in detector_set.recognizers}
            )
        )
        # Sorted by name: of two results with the same span, type and score, Presidio keeps
        # the one found first, so this order decides which detector is reported.
        recognizers = sorted(
            [recognizer for _, recognizer in builtins] + yaml_recognizers,
            key=recognizer_name,
        )
        self._analyzer: AnalyzerEngine | PatternEngine
        if nlp_engine is None:
            self._analyzer = PatternEngine(
                recognizers, plausible_only=True, store=store, span_threshold=analysis.threshold
            )
        else:
            registry = OrderedRegistry(recognizers=recognizers, supported_languages=[LANGUAGE])
            self._analyzer = AnalyzerEngine(
                registry=registry,
                nlp_engine=nlp_engine,
                supported_languages=[LANGUAGE],
                default_score_threshold=0.0,
                context_aware_enhancer=IndexedContextEnhancer(),
            )
        self._entities = list(self.entity_types)
        self._lock = threading.Lock()
        self.detect(_WARM_UP_TEXT)

    def detect(self, text: str) -> list[DetectedSpan]:
        """Sensitive spans of ``text``, sorted by (start, end, type). Never logs ``text``.

        Scans the normalized view and decoded payloads too (:mod:`.evasion`); every span
        is in ``text``'s own offsets.
        """
        return scan(text, self.analyze)

    def analyze(self, text: str) -> list[DetectedSpan]:
        """Spans of ``text`` exactly as written: no normalization, no decoding."""
        return filter_implausible(
            text, self._spans(self._results(text, explain=False), explain=False)
        )

    def explain(self, text: str) -> list[DetectedSpan]:
        """Like :meth:`detect`, each span an :class:`ExplainedSpan` (pattern, context, check)."""
        return scan(text, lambda view: self._spans(self._results(view, explain=True), explain=True))

    def _results(self, text: str, *, explain: bool) -> list[RecognizerResult]:
        if not text.strip():
            return []
        try:
            with self._lock:
                return self._analyzer.analyze(
                    text=text,
                    language=LANGUAGE,
                    entities=self._entities,
                    return_decision_process=explain,
                )
        except DetectionError:
            raise
        except Exception as exc:  # Presidio's messages may quote the text: name the type only
            raise DetectionError(
                f"detector {self.backend}: analysis failed ({type(exc).__name__})"
            ) from None

    def _spans(self, results: list[RecognizerResult], *, explain: bool) -> list[DetectedSpan]:
        best: dict[tuple[int, int, str], DetectedSpan] = {}
        analysis = self.detector_set.analysis
        for result in results:
            if result.score < analysis.threshold(result.entity_type):
                continue
            recognizer_id = (result.recognition_metadata or {}).get(
                RecognizerResult.RECOGNIZER_IDENTIFIER_KEY
            )
            if recognizer_id not in self._origin:
                raise DetectionError(
                    f"detector {self.backend}: result from an unknown recognizer "
                    f"for {result.entity_type}"
                )
            detector, category = self._origin[recognizer_id]
            span = span_of(result, category=category, detector=detector, explain=explain)
            key = (span.start, span.end, span.type)
            kept = best.get(key)
            if kept is None or (-span.score, span.detector) < (-kept.score, kept.detector):
                best[key] = span
        return [best[key] for key in sorted(best)]


class OrderedRegistry(RecognizerRegistry):
    """A registry that hands out its recognizers by name (Presidio's own order comes from
    a set of objects, so which of two equal results survives would vary between runs)."""

    def get_recognizers(self, *args: Any, **kwargs: Any) -> list[EntityRecognizer]:
        found: list[EntityRecognizer] = super().get_recognizers(*args, **kwargs)
        return sorted(found, key=recognizer_name)


def recognizer_name(recognizer: EntityRecognizer) -> str:
    """A recognizer's name (set in ``EntityRecognizer.__init__``)."""
    name: str = recognizer.name  # type: ignore[has-type]
    return name
