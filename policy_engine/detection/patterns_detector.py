"""The fast backend: YAML recognizers and Presidio's pattern-based built-ins, no model.

No spaCy pipeline is loaded, so named-entity types (PERSON, LOCATION, ...) are not
reported (:attr:`PatternDetector.skipped_entities` lists the ones the directory asked
for). Context words still raise scores, read from regex tokens around each match. The
recognizers run on :class:`~policy_engine.detection.pattern_engine.PatternEngine`;
``reference=True`` runs them on Presidio's ``AnalyzerEngine`` instead (with
:class:`~policy_engine.detection.tokens.RegexTokenNlpEngine`), which gives the same results
many times slower: kept for the differential tests. Start-up takes well under a second;
useful where speed matters more than names, and in unit tests.
"""

from __future__ import annotations

from policy_engine.detection.analyzer import LANGUAGE, AnalyzerDetector
from policy_engine.detection.definitions import DetectorSet
from policy_engine.detection.prefilter_store import PrefilterStore
from policy_engine.detection.tokens import RegexTokenNlpEngine


class PatternDetector(AnalyzerDetector):
    """Same recognizers and detector ids as the presidio backend, minus named entities."""

    def __init__(
        self,
        detector_set: DetectorSet,
        *,
        reference: bool = False,
        store: PrefilterStore | None = None,
    ) -> None:
        super().__init__(
            backend="patterns",
            detector_set=detector_set,
            nlp_engine=RegexTokenNlpEngine(LANGUAGE) if reference else None,
            with_ner=False,
            store=store,
        )
