"""Tuning without code: context words both ways, validators, allow lists, plausibility."""

from __future__ import annotations

from pathlib import Path

import pytest

from policy_engine.detection import PatternDetector, load_detector_set
from policy_engine.detection.plausibility import plausible_name, plausible_phone
from policy_engine.detection.validators import has_sequence, iban, secret_like
from policy_engine.errors import ConfigError

TICKETS = """\
version: 1
recognizers:
  - id: ticket_key
    entity_type: TICKET_KEY
    category: secret
    patterns:
      - {name: tk, regex: '\\btk_[A-Za-z0-9]{12}\\b', score: 0.6}
    context: [production]
    negative_context: [sample, example]
    negative_context_penalty: 0.3
  - id: iban_custom
    entity_type: IBAN_CODE
    category: pii
    patterns:
      - name: iban
        regex: '\\b[A-Z]{2}\\d{2}(?: ?[A-Z0-9]{4}){3,7}(?: ?[A-Z0-9]{1,3})?\\b'
        score: 0.8
    validator: iban
"""


@pytest.fixture(scope="module")
def detector(tmp_path_factory: pytest.TempPathFactory) -> PatternDetector:
    directory = tmp_path_factory.mktemp("detectors")
    (directory / "tickets.yaml").write_text(TICKETS, encoding="utf-8")
    return PatternDetector(load_detector_set(directory))


def score_of(detector: PatternDetector, text: str, entity_type: str) -> float | None:
    scores = [s.score for s in detector.detect(text) if s.type == entity_type]
    return max(scores) if scores else None


def test_context_words_raise_and_negative_context_words_lower(detector: PatternDetector) -> None:
    plain = score_of(detector, "the key tk_Q2w3E4r5T6y7 works", "TICKET_KEY")
    raised = score_of(detector, "production key tk_Q2w3E4r5T6y7 works", "TICKET_KEY")
    lowered = score_of(detector, "a sample key tk_Q2w3E4r5T6y7 works", "TICKET_KEY")
    assert plain == 0.6
    assert raised is not None and raised > plain
    assert lowered is None  # 0.6 - 0.3 falls under the 0.4 threshold


def test_explain_shows_the_negative_boost(detector: PatternDetector) -> None:
    text = "a sample key tk_Q2w3E4r5T6y7 here; prod key tk_Z9x8C7v6B5n4"
    reported = [s for s in detector.explain(text) if s.type == "TICKET_KEY"]
    assert len(reported) == 1  # the sample one is under the threshold
    assert reported[0].pattern == "tk"


def test_iban_validator_drops_bad_checksums(detector: PatternDetector) -> None:
    assert score_of(detector, "pay to DE89 3704 0044 0532 0130 00", "IBAN_CODE") == 0.8
    assert score_of(detector, "pay to DE89 3704 0044 0532 0130 01", "IBAN_CODE") is None


def test_negative_penalty_must_be_a_score(tmp_path: Path) -> None:
    bad = TICKETS.replace("negative_context_penalty: 0.3", "negative_context_penalty: 1.5")
    (tmp_path / "tickets.yaml").write_text(bad, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_detector_set(tmp_path)
    message = str(caught.value)
    assert "tickets.yaml:10:" in message
    assert "recognizer 'ticket_key'" in message
    assert "negative_context_penalty" in message


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Vq3!mZ8#pL2xT9wK", True),
        ("m{{h}o)p${e]nob(ody[finds>-_$#thisone}}", True),
        ("shorter-version", False),  # one kind of symbol, lower case only
        ("abcdefghijklmnop", False),
        ("1234567890abcdef1234", False),  # a typed run
        ("aaaaaaaaaaaa1", False),
    ],
)
def test_secret_like(value: str, expected: bool) -> None:
    assert secret_like(value) is expected


def test_sequences_and_iban() -> None:
    assert has_sequence("xx123456yy") and has_sequence("klmnopq")
    assert not has_sequence("k7Gq2vXz9LmP4tRw8YbN")
    assert iban("GB82 WEST 1234 5698 7654 32") and not iban("GB82 WEST 1234 5698 7654 33")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Maria Keller", True),
        ("J.-M. Loebel", True),
        ("O\u2019Neill", True),
        ("gitlab_TOKEN", False),
        ("null", False),
        ('System.setProperty("X', False),
        ("DISTRIBUTION", False),
        ("USS Anderson\nFPO AA", False),
    ],
)
def test_plausible_name(value: str, expected: bool) -> None:
    assert plausible_name(value) is expected


@pytest.mark.parametrize(
    ("value", "score", "expected"),
    [
        ("+1 (212) 555-0187", 0.4, True),
        ("2125550187", 0.75, True),  # bare digits, but a context word vouched for them
        ("2125550187", 0.4, False),
        ("114.100.139.8", 0.4, False),
        ("078-05-1123", 0.4, False),
        ("1690", 0.4, False),
    ],
)
def test_plausible_phone(value: str, score: float, expected: bool) -> None:
    assert plausible_phone(value, score) is expected


def test_shipped_phone_overlapping_an_ip_is_dropped() -> None:
    from policy_engine.settings import PROJECT_ROOT

    shipped = PatternDetector(load_detector_set(PROJECT_ROOT / "detectors"))
    text = "blocked address 121.229.203.44 again"
    assert {s.type for s in shipped.detect(text)} == {"IP_ADDRESS"}


def test_a_capitalized_field_label_is_not_a_person() -> None:
    from policy_engine.detection.plausibility import filter_implausible
    from policy_engine.models import DetectedSpan

    text = "Longitude : null, Mary: hello"
    spans = [
        DetectedSpan(type="PERSON", category="pii", start=0, end=9, score=0.85, detector="t"),
        DetectedSpan(type="PERSON", category="pii", start=18, end=22, score=0.85, detector="t"),
    ]
    kept = filter_implausible(text, spans)
    assert [text[s.start : s.end] for s in kept] == ["Mary"]
