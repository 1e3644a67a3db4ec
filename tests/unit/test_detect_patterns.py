"""The patterns backend on the shipped detectors: what it reports, what it must not, and how.

No spaCy model is loaded here (a subprocess proves it); the detector is built once per module.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import textwrap
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from policy_engine.detection import PatternDetector, build_detector, load_detector_set
from policy_engine.detection.examples import run_examples
from policy_engine.detection.offline_email import offline_tld_extractor
from policy_engine.errors import DetectionError
from policy_engine.models import DetectedSpan
from policy_engine.ports import Detector
from policy_engine.settings import PROJECT_ROOT

SHIPPED = PROJECT_ROOT / "detectors"


@pytest.fixture(scope="module")
def detector() -> PatternDetector:
    return PatternDetector(load_detector_set(SHIPPED))


def found(detector: Detector, text: str) -> list[tuple[str, str]]:
    """(type, matched text) of every span, in the detector's order."""
    return [(s.type, text[s.start : s.end]) for s in detector.detect(text)]


def types_in(detector: Detector, text: str) -> set[str]:
    return {s.type for s in detector.detect(text)}


def only(detector: Detector, text: str, entity_type: str) -> DetectedSpan:
    spans = [s for s in detector.detect(text) if s.type == entity_type]
    assert len(spans) == 1, spans
    return spans[0]


@contextmanager
def no_network(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Make every connection and name lookup fail, and record that one was tried."""
    attempts: list[str] = []

    def refuse(*args: Any, **kwargs: Any) -> Any:
        attempts.append(repr(args[:2]))
        raise OSError("network access is disabled in this test")

    with monkeypatch.context() as patch:
        patch.setattr(socket.socket, "connect", refuse)
        patch.setattr(socket.socket, "connect_ex", refuse)
        patch.setattr(socket, "getaddrinfo", refuse)
        patch.setattr(socket, "create_connection", refuse)
        yield attempts


# --------------------------------------------------------------------------- contract


def test_is_a_detector_and_reports_spans_with_categories(detector: PatternDetector) -> None:
    assert isinstance(detector, Detector)
    text = "SSN 536-22-8190 and key AKIAZ7QW3RT5LM2XNB4Y"
    spans = detector.detect(text)
    assert [(s.type, s.category, s.detector) for s in spans] == [
        ("US_SSN", "pii", "presidio:UsSsnRecognizer"),
        ("AWS_ACCESS_KEY", "secret", "yaml:secrets/aws_access_key"),
    ]
    assert text[spans[0].start : spans[0].end] == "536-22-8190"
    assert all(0.0 < s.score <= 1.0 for s in spans)


def test_empty_and_blank_text_find_nothing(detector: PatternDetector) -> None:
    assert detector.detect("") == []
    assert detector.detect(" \n\t ") == []


def test_named_entities_are_skipped_without_the_model(detector: PatternDetector) -> None:
    assert detector.skipped_entities == ("LOCATION", "PERSON")
    # Without the model only a cue (a title, a "Name:" label ...) reports a person.
    assert "PERSON" not in types_in(detector, "Maria Keller moved to Boston last spring.")
    assert "PERSON" in types_in(detector, "Dr. Maria Keller moved to Boston last spring.")


def test_shipped_examples_hold(detector: PatternDetector) -> None:
    failures = run_examples(detector, load_detector_set(SHIPPED))
    assert [str(f) for f in failures] == []


# --------------------------------------------------------------------------- secrets


@pytest.mark.parametrize(
    ("text", "entity_type", "value"),
    [
        ("aws_access_key_id = AKIAZ7QW3RT5LM2XNB4Y", "AWS_ACCESS_KEY", "AKIAZ7QW3RT5LM2XNB4Y"),
        (
            "export GITHUB_TOKEN=ghp_4Fq9ZrT2mXw8LpK3vN7bY1cD6eH0jS5aQ2uR",
            "GITHUB_TOKEN",
            "ghp_4Fq9ZrT2mXw8LpK3vN7bY1cD6eH0jS5aQ2uR",
        ),
        (
            "bot: xoxb-2048163990-5517782031-Jf8Kq2LmZx9RtVb4Nc7Wd1Hs done",
            "SLACK_TOKEN",
            "xoxb-2048163990-5517782031-Jf8Kq2LmZx9RtVb4Nc7Wd1Hs",
        ),
        (
            "hook https://hooks.slack.com/services/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g",
            "SLACK_TOKEN",
            "https://hooks.slack.com/services/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g",
        ),
        ('config.api_key = "k7Gq2vXz9LmP4tRw8YbN";', "API_KEY", "k7Gq2vXz9LmP4tRw8YbN"),
        ("apikey: Zx8fK2pQ9mW4rT7yB1nC", "API_KEY", "Zx8fK2pQ9mW4rT7yB1nC"),
        ("Authorization: Bearer 5fT8qLz2Xk9mWv4Rb7Np1Yc3", "API_KEY", "5fT8qLz2Xk9mWv4Rb7Np1Yc3"),
    ],
)
def test_secret_formats_report_only_the_secret(
    detector: PatternDetector, text: str, entity_type: str, value: str
) -> None:
    span = only(detector, text, entity_type)
    assert text[span.start : span.end] == value
    assert span.category == "secret"
    assert span.score >= 0.75


def test_specific_formats_score_higher_than_the_generic_one(detector: PatternDetector) -> None:
    text = "export SERVICE_TOKEN=Zq8Xw2Lm5Np7Rt9Vb3Kd6Hf1 AKIAZ7QW3RT5LM2XNB4Y"
    scores = {s.type: s.score for s in detector.detect(text)}
    assert scores["AWS_ACCESS_KEY"] >= 0.8
    assert scores["AWS_ACCESS_KEY"] > scores["API_KEY"]


def test_a_value_with_a_vendor_prefix_is_left_to_the_vendors_format(
    detector: PatternDetector,
) -> None:
    found = detector.detect("export GITHUB_TOKEN=ghp_4Fq9ZrT2mXw8LpK3vN7bY1cD6eH0jS5aQ2uR")
    assert [s.type for s in found] == ["GITHUB_TOKEN"]
    # The same prefix in a shape the vendor never issues: no generic finding either.
    assert detector.detect('slack_token: "xoxp-12-34-56-9f8e7d6c5b4a39281706f5e4d3c2b1a0"') == []


def test_private_key_block_is_one_span(detector: PatternDetector) -> None:
    block = (
        "-----BEGIN OPENSSH PRIVATE KEY-----\n"
        "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW\n"
        "-----END OPENSSH PRIVATE KEY-----"
    )
    text = f"my key:\n{block}\nthanks"
    span = only(detector, text, "PRIVATE_KEY")
    assert text[span.start : span.end] == block
    assert span.score >= 0.9


@pytest.mark.parametrize(
    "text",
    [
        "The docs use AKIAIOSFODNN7EXAMPLE as the access key.",
        "Fixed in commit 9fceb02d0ae598e95dc970b74767f19372d61af8 yesterday.",
        "sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
        'api_key = "YOUR_API_KEY_HERE"',
        "token=xxxxxxxxxxxxxxxxxxxx",
        "secret: changeme-changeme-2024",
        "password = ${DB_PASSWORD}",
        "client_secret: <your client secret>",
        "Authorization: Bearer $TOKEN",
        "my token is short: abc123",
        "The session token expires after 3600 seconds.",
        "GITHUB_TOKEN=ghp_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
        "SLACK_TOKEN=xoxb-your-token-here",
        "-----BEGIN CERTIFICATE-----",
    ],
)
def test_placeholders_and_lookalikes_are_not_secrets(detector: PatternDetector, text: str) -> None:
    assert not [s for s in detector.detect(text) if s.category == "secret"]


# --------------------------------------------------------------------------- markings


def test_capital_banner_outscores_lower_case_prose(detector: PatternDetector) -> None:
    banner = only(detector, "CONFIDENTIAL\nQ3 pricing review", "CLASSIFICATION_MARKING")
    prose = only(detector, "This document is confidential.", "CLASSIFICATION_MARKING")
    assert banner.score >= 0.85
    assert 0.4 <= prose.score < banner.score
    assert banner.category == prose.category == "ip_marker"


@pytest.mark.parametrize(
    "text",
    [
        "Please keep this confidential between us.",
        "I'll treat it with care; it's a confidential matter between friends.",
        "Our internal tools are only for staff.",
        "She studied the attorney-client privilege in law school.",
        "Confidential information must not leave the building.",
    ],
)
def test_ordinary_prose_is_not_a_marking(detector: PatternDetector, text: str) -> None:
    assert "CLASSIFICATION_MARKING" not in types_in(detector, text)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("STRICTLY CONFIDENTIAL - board only", "STRICTLY CONFIDENTIAL"),
        ("Slides: INTERNAL USE ONLY", "INTERNAL USE ONLY"),
        ("For internal use only.", "For internal use only"),
        ("TRADE SECRET of Acme", "TRADE SECRET"),
        ("ATTORNEY-CLIENT PRIVILEGED", "ATTORNEY-CLIENT PRIVILEGED"),
        ("Privileged & Confidential", "Privileged & Confidential"),
        ("This drawing is EXPORT CONTROLLED.", "EXPORT CONTROLLED"),
        ("Technical data subject to ITAR; no foreign persons.", "subject to ITAR"),
        ("Confidential - do not forward", "Confidential"),
    ],
)
def test_markings_are_reported(detector: PatternDetector, text: str, value: str) -> None:
    assert ("CLASSIFICATION_MARKING", value) in found(detector, text)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        (
            "# Copyright (c) 2024 Acme Widgets Ltd. All rights reserved.",
            "Copyright (c) 2024 Acme Widgets Ltd. All rights reserved",
        ),
        ("Proprietary and confidential.", "Proprietary and confidential"),
        ("ACME PROPRIETARY", "ACME PROPRIETARY"),
    ],
)
def test_proprietary_notices(detector: PatternDetector, text: str, value: str) -> None:
    assert ("PROPRIETARY_NOTICE", value) in found(detector, text)


def test_proprietary_in_prose_is_not_a_notice(detector: PatternDetector) -> None:
    assert "PROPRIETARY_NOTICE" not in types_in(
        detector, "The proprietary format of the old scanner is hard to read."
    )


# --------------------------------------------------------------------------- codenames


def test_codenames_match_whole_words_with_their_case_rules(detector: PatternDetector) -> None:
    text = "Project Bluefin and aurora-7 ship with NIGHTJAR; a nightjar sang; Aurora-77 no."
    assert found(detector, text) == [
        ("CODENAME", "Project Bluefin"),
        ("CODENAME", "aurora-7"),
        ("CODENAME", "NIGHTJAR"),
    ]
    spans = detector.detect(text)
    assert {s.detector for s in spans} == {
        "yaml:codenames/codenames",
        "yaml:codenames/codenames_exact_case",
    }


# --------------------------------------------------------------------------- source code


def test_source_code_is_reported_and_prose_is_not(detector: PatternDetector) -> None:
    code = 'func main() {\n\tnames := []string{"ada"}\n\tfmt.Println(names)\n}'
    text = f"Why does this not compile?\n\n{code}\n\nThanks a lot."
    span = only(detector, text, "SOURCE_CODE")
    assert text[span.start : span.end] == code
    assert span.category == "source_code"
    assert span.detector == "yaml:source_code/source_code"
    prose = "Dear team,\nthe offsite is on Friday.\nPlease confirm by Wednesday.\nThanks, Ana"
    assert "SOURCE_CODE" not in types_in(detector, prose)


# --------------------------------------------------------------------------- PII without NER


def test_pattern_pii_is_reported(detector: PatternDetector) -> None:
    text = (
        "Maria (SSN 536-22-8190) paid with 4111 1111 1111 1111 and wrote from "
        "maria.keller@contoso-mail.com, server 10.20.30.40."
    )
    assert found(detector, text) == [
        ("US_SSN", "536-22-8190"),
        ("CREDIT_CARD", "4111 1111 1111 1111"),
        ("EMAIL_ADDRESS", "maria.keller@contoso-mail.com"),
        ("IP_ADDRESS", "10.20.30.40"),
    ]


def test_invalid_ssn_and_card_are_not_reported(detector: PatternDetector) -> None:
    # 000 area numbers are never issued; the card number fails the Luhn check.
    text = "SSN 000-12-3456, card 4111 1111 1111 1112"
    assert not types_in(detector, text) & {"US_SSN", "CREDIT_CARD"}


def test_context_words_raise_weak_patterns(detector: PatternDetector) -> None:
    assert "US_PASSPORT" not in types_in(detector, "Reference 912803456 is closed.")
    assert "US_PASSPORT" in types_in(detector, "My passport number is 912803456.")


# --------------------------------------------------------------------------- custom sets


def detectors_dir(directory: Path, **files: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    for name, body in files.items():
        (directory / f"{name}.yaml").write_text(textwrap.dedent(body), encoding="utf-8")
    return directory


OVERLAP = """\
recognizers:
  - id: first
    entity_type: CODENAME
    category: ip_marker
    deny_list: [Blue Harbor]
    score: 0.7
  - id: second
    entity_type: CODENAME
    category: ip_marker
    deny_list: [Blue Harbor]
    score: 0.9
  - id: program
    entity_type: PROGRAM_NAME
    category: ip_marker
    deny_list: [Blue Harbor, Harbor]
    score: 0.6
"""


def test_same_span_same_type_is_kept_once_different_types_all(tmp_path: Path) -> None:
    detector = PatternDetector(load_detector_set(detectors_dir(tmp_path, overlap=OVERLAP)))
    text = "Blue Harbor and Harbor"
    spans = detector.detect(text)
    assert [(s.start, s.end, s.type, s.detector, s.score) for s in spans] == [
        (0, 11, "CODENAME", "yaml:overlap/second", 0.9),
        (0, 11, "PROGRAM_NAME", "yaml:overlap/program", 0.6),
        (16, 22, "PROGRAM_NAME", "yaml:overlap/program", 0.6),
    ]
    assert detector.detect(text) == spans  # deterministic


@pytest.mark.parametrize(
    ("settings", "expected"),
    [
        ("", {"CODENAME", "PROGRAM_NAME"}),
        ("analysis:\n  score_threshold: 0.65\n", {"CODENAME"}),
        ("analysis:\n  score_threshold: 0.65\n  score_thresholds: {CODENAME: 0.95}\n", set()),
        (
            "analysis:\n  score_threshold: 0.95\n  score_thresholds: {PROGRAM_NAME: 0.5}\n",
            {"PROGRAM_NAME"},
        ),
    ],
)
def test_thresholds_apply_to_yaml_types_too(
    tmp_path: Path, settings: str, expected: set[str]
) -> None:
    directory = detectors_dir(tmp_path, overlap=OVERLAP, settings=settings)
    detector = PatternDetector(load_detector_set(directory))
    assert types_in(detector, "Blue Harbor") == expected


def test_value_group_validator_and_allow_list(tmp_path: Path) -> None:
    directory = detectors_dir(
        tmp_path,
        cards="""\
        recognizers:
          - id: card_ref
            entity_type: CARD_REF
            category: pii
            patterns:
              - name: labelled card
                regex: 'card=(?P<value>\\d{16})'
                score: 0.8
            validator: luhn
            allow_list: ['4242424242424242']
        """,
    )
    detector = PatternDetector(load_detector_set(directory))
    text = "card=4111111111111111 card=4111111111111112 card=4242424242424242"
    assert found(detector, text) == [("CARD_REF", "4111111111111111")]


def test_regex_running_out_of_time_fails_closed_without_the_text(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    directory = detectors_dir(
        tmp_path,
        slow="""\
        recognizers:
          - id: backtracking
            entity_type: SLOW
            category: secret
            patterns: [{name: nested, regex: '(a|aa)+$', score: 0.9}]
        """,
    )
    detector = PatternDetector(load_detector_set(directory))
    monkeypatch.setattr("policy_engine.detection.recognizers.REGEX_TIMEOUT_SECONDS", 0.02)
    # Not plain ASCII, so the regex searches the whole text (no prefilter windows).
    secret_text = "a" * 60 + "b topsecret ü"
    with pytest.raises(DetectionError) as caught:
        detector.detect(secret_text)
    message = str(caught.value)
    assert "yaml:slow/backtracking" in message and "ran out of time" in message
    assert "topsecret" not in message and "aaaa" not in message
    # In plain ASCII the prefilter proves that the pattern matches nowhere: it does not run.
    assert detector.detect("a" * 60 + "b topsecret") == []


def test_unexpected_failures_become_detection_errors_without_the_text(
    detector: PatternDetector, monkeypatch: pytest.MonkeyPatch
) -> None:
    def explode(**kwargs: Any) -> Any:
        raise ValueError(f"Did not find word {kwargs['text']!r}")

    monkeypatch.setattr(detector._analyzer, "analyze", explode)
    with pytest.raises(DetectionError) as caught:
        detector.detect("Maria's SSN is 536-22-8190")
    assert str(caught.value) == "detector patterns: analysis failed (ValueError)"
    assert caught.value.__cause__ is None and caught.value.__suppress_context__


# --------------------------------------------------------------------------- concurrency


def test_concurrent_calls_give_the_same_results(detector: PatternDetector) -> None:
    texts = [
        "SSN 536-22-8190",
        "key AKIAZ7QW3RT5LM2XNB4Y",
        "CONFIDENTIAL",
        "def f(x):\n    y = x + 1\n    return y",
        "mail maria@contoso-mail.com",
    ] * 8
    expected = [detector.detect(t) for t in texts]
    results: list[list[DetectedSpan] | None] = [None] * len(texts)

    def work(index: int) -> None:
        results[index] = detector.detect(texts[index])

    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(texts))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == expected


# --------------------------------------------------------------------------- no network, no model


def test_building_and_detecting_use_no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    offline_tld_extractor.cache_clear()  # build the suffix-list extractor under the block
    with no_network(monkeypatch) as attempts:
        detector = build_detector(SHIPPED, backend="patterns")
        spans = detector.detect("Please write to maria.keller@contoso-mail.com today.")
    assert [s.type for s in spans] == ["EMAIL_ADDRESS"]
    assert attempts == []


def test_no_spacy_model_is_loaded() -> None:
    script = textwrap.dedent(
        """\
        import json, sys
        import spacy

        def refuse(*args, **kwargs):
            raise AssertionError("spacy.load called")

        spacy.load = refuse
        from pathlib import Path
        from policy_engine.detection import build_detector

        detector = build_detector(Path(sys.argv[1]), backend="patterns")
        spans = detector.detect("SSN 536-22-8190, ops@example.com, CONFIDENTIAL")
        models = sorted(m for m in sys.modules if m.startswith("en_core_web"))
        print(json.dumps({"types": [s.type for s in spans], "models": models}))
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script, str(SHIPPED)],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report == {
        "types": ["US_SSN", "EMAIL_ADDRESS", "CLASSIFICATION_MARKING"],
        "models": [],
    }
