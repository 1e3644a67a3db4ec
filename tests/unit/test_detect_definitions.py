"""Detector YAML: the shipped files load, and every mistake names file, line, id and field."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

import policy_engine.detection as detection
from policy_engine.detection import build_detector, describe_detectors, load_detector_set
from policy_engine.detection.builtins import BUILTIN_ENTITIES, NER_ENTITIES
from policy_engine.detection.definitions import (
    DenyListRecognizerDef,
    PatternRecognizerDef,
    SourceCodeRecognizerDef,
)
from policy_engine.detection.validators import luhn, mixed_characters, shannon_entropy
from policy_engine.errors import ConfigError
from policy_engine.settings import PROJECT_ROOT

SHIPPED = PROJECT_ROOT / "detectors"

GOOD_RECOGNIZER = """\
  - id: ticket_ref
    entity_type: TICKET_REF
    category: ip_marker
    patterns:
      - name: ticket
        regex: '\\bTCK-\\d{5}\\b'
        score: 0.7
"""


def write(directory: Path, name: str, body: str) -> Path:
    path = directory / name
    path.write_text(textwrap.dedent(body), encoding="utf-8")
    return path


def load_error(directory: Path) -> str:
    with pytest.raises(ConfigError) as caught:
        load_detector_set(directory)
    return str(caught.value)


# --------------------------------------------------------------------------- shipped files


def test_shipped_directory_loads_with_the_expected_recognizers() -> None:
    detector_set = load_detector_set(SHIPPED)
    by_id = {r.definition.id: r for r in detector_set.recognizers}
    assert set(by_id) == {
        "api_key",
        "atlassian_pat",
        "aws_access_key",
        "branded_card",
        "classification_banner",
        "classification_in_prose",
        "classification_phrase",
        "codenames",
        "codenames_exact_case",
        "exact_format_token",
        "github_checked_token",
        "government_marking",
        "json_web_key",
        "json_web_token",
        "keyword_assignment",
        "otp_seed",
        "payment_card",
        "person_cue",
        "phone_with_context",
        "phone_with_cue",
        "service_token",
        "github_token",
        "private_key",
        "proprietary_notice",
        "slack_token",
        "source_code",
        "street_address",
        "vendor_keyed_assignment",
        "url_credentials",
        "vendor_token",
    }
    assert by_id["aws_access_key"].detector_id == "yaml:secrets/aws_access_key"
    assert {r.definition.category for r in detector_set.recognizers} == {
        "pii",
        "secret",
        "ip_marker",
        "source_code",
    }
    assert isinstance(by_id["codenames"].definition, DenyListRecognizerDef)
    assert isinstance(by_id["source_code"].definition, SourceCodeRecognizerDef)
    assert isinstance(by_id["api_key"].definition, PatternRecognizerDef)


def test_shipped_secret_formats_score_high() -> None:
    detector_set = load_detector_set(SHIPPED)
    for loaded in detector_set.recognizers:
        definition = loaded.definition
        generic = {"api_key", "keyword_assignment"}  # value shape only: scored lower
        if definition.category == "secret" and definition.id not in generic:
            assert isinstance(definition, PatternRecognizerDef)
            assert min(p.score for p in definition.patterns) >= 0.8, definition.id


def test_shipped_analysis_settings() -> None:
    detector_set = load_detector_set(SHIPPED)
    analysis = detector_set.analysis
    assert detector_set.analysis_source == SHIPPED / "pii.yaml"
    assert {"PERSON", "EMAIL_ADDRESS", "US_SSN", "CREDIT_CARD", "LOCATION"} <= set(
        analysis.builtin_entities
    )
    assert not {"DATE_TIME", "URL", "NRP", "ORGANIZATION"} & set(analysis.builtin_entities)
    assert analysis.score_threshold == pytest.approx(0.4)
    assert analysis.threshold("US_DRIVER_LICENSE") == pytest.approx(0.6)
    assert analysis.threshold("EMAIL_ADDRESS") == pytest.approx(0.4)


def test_every_shipped_recognizer_documents_examples_both_ways() -> None:
    for loaded in load_detector_set(SHIPPED).recognizers:
        examples = loaded.definition.examples
        assert examples.match and examples.no_match, loaded.detector_id


def test_builtin_table_matches_presidio_classes() -> None:
    from policy_engine.detection.builtins import pattern_recognizer_classes

    classes = pattern_recognizer_classes()
    pattern_names = {name for e, name in BUILTIN_ENTITIES.items() if e not in NER_ENTITIES}
    assert pattern_names == set(classes)
    for entity, name in BUILTIN_ENTITIES.items():
        if entity not in NER_ENTITIES:
            assert classes[name](supported_language="en").supported_entities == [entity]


# --------------------------------------------------------------------------- describe


def test_describe_lists_builtins_then_yaml_detectors() -> None:
    infos = describe_detectors(SHIPPED)
    ids = [info.id for info in infos]
    assert ids.index("presidio:UsSsnRecognizer") < ids.index("yaml:secrets/api_key")
    ner = next(info for info in infos if info.id == "presidio:SpacyRecognizer")
    assert ner.entity_types == ("LOCATION", "PERSON")
    assert ner.kind == "ner" and ner.backends == ("presidio",)
    code = next(info for info in infos if info.id == "yaml:source_code/source_code")
    assert code.category == "source_code" and code.kind == "source_code"
    assert code.source == SHIPPED / "source_code.yaml"
    assert code.backends == ("patterns", "presidio")


# --------------------------------------------------------------------------- valid variants


def test_kind_is_inferred_or_explicit_and_ids_are_global(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", "recognizers:\n" + GOOD_RECOGNIZER)
    write(
        tmp_path,
        "b.yaml",
        """\
        recognizers:
          - id: words
            kind: deny_list
            entity_type: CODENAME
            category: ip_marker
            deny_list: [Blue Harbor]
        """,
    )
    detector_set = load_detector_set(tmp_path)
    assert [r.detector_id for r in detector_set.recognizers] == [
        "yaml:a/ticket_ref",
        "yaml:b/words",
    ]
    assert detector_set.analysis.builtin_entities == []
    assert detector_set.analysis_source is None


def test_empty_file_is_allowed_next_to_others(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", "recognizers:\n" + GOOD_RECOGNIZER)
    write(tmp_path, "empty.yaml", "# nothing here yet\n")
    assert len(load_detector_set(tmp_path).recognizers) == 1


def test_a_file_read_again_is_parsed_once_and_an_edit_is_read(tmp_path: Path) -> None:
    path = write(tmp_path, "a.yaml", "recognizers:\n" + GOOD_RECOGNIZER)
    first = load_detector_set(tmp_path)
    again = load_detector_set(tmp_path)
    assert again.recognizers[0].definition is first.recognizers[0].definition  # not re-parsed
    path.write_text(
        textwrap.dedent("recognizers:\n" + GOOD_RECOGNIZER.replace("ticket_ref", "ticket_id")),
        encoding="utf-8",
    )
    assert [r.definition.id for r in load_detector_set(tmp_path).recognizers] == ["ticket_id"]
    path.write_text("recognizers: [", encoding="utf-8")
    assert "a.yaml" in load_error(tmp_path)  # a broken edit is an error every time
    assert "a.yaml" in load_error(tmp_path)


# --------------------------------------------------------------------------- errors


def test_bad_regex_names_file_line_id_and_field(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "secrets.yaml",
        """\
        recognizers:
          - id: broken
            entity_type: BROKEN
            category: secret
            patterns:
              - name: unbalanced
                regex: 'abc(def'
                score: 0.9
        """,
    )
    message = load_error(tmp_path)
    assert f"{path}:7:" in message
    assert "recognizer 'broken'" in message
    assert "field 'patterns[0].regex'" in message
    assert "invalid regex" in message


def test_unknown_field_is_rejected(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "x.yaml",
        """\
        recognizers:
          - id: codes
            entity_type: CODENAME
            category: ip_marker
            deny_list: [Blue Harbor]
            colour: blue
        """,
    )
    message = load_error(tmp_path)
    assert f"{path}:6:" in message
    assert "recognizer 'codes'" in message and "field 'colour'" in message
    assert "unknown field" in message


def test_missing_field_is_rejected(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "x.yaml",
        """\
        recognizers:
          - id: no_type
            category: pii
            deny_list: [something]
        """,
    )
    message = load_error(tmp_path)
    assert f"{path}:2:" in message
    assert "recognizer 'no_type'" in message
    assert "field 'entity_type': missing required field" in message


def test_duplicate_id_names_both_files(tmp_path: Path) -> None:
    first = write(tmp_path, "a.yaml", "recognizers:\n" + GOOD_RECOGNIZER)
    second = write(tmp_path, "b.yaml", "recognizers:\n" + GOOD_RECOGNIZER)
    message = load_error(tmp_path)
    assert str(second) in message and str(first) in message
    assert "'ticket_ref'" in message and "duplicate id" in message


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            "recognizers:\n  - id: x\n    entity_type: lower_case\n    category: pii\n"
            "    deny_list: [a]\n",
            ["x.yaml:3:", "field 'entity_type'", "UPPER_SNAKE_CASE"],
        ),
        (
            "recognizers:\n  - id: Bad-Id\n    entity_type: X\n    category: pii\n"
            "    deny_list: [a]\n",
            ["x.yaml:2:", "field 'id'", "lower_snake_case"],
        ),
        (
            "recognizers:\n  - id: x\n    entity_type: X\n    category: secrets\n"
            "    deny_list: [a]\n",
            ["x.yaml:4:", "recognizer 'x'", "field 'category'", "'ip_marker'"],
        ),
        (
            "recognizers:\n  - id: x\n    entity_type: X\n    category: pii\n",
            ["x.yaml:2:", "recognizer 'x'", "give exactly one of 'patterns', 'deny_list'"],
        ),
        (
            "recognizers:\n  - id: x\n    entity_type: X\n    category: pii\n"
            "    deny_list: [a]\n    patterns: [{name: p, regex: b, score: 0.5}]\n",
            ["recognizer 'x'", "give exactly one of"],
        ),
        (
            "recognizers:\n  - id: x\n    kind: magic\n    entity_type: X\n    category: pii\n",
            ["recognizer 'x'", "kind must be one of patterns, deny_list, source_code"],
        ),
        (
            "recognizers:\n  - id: x\n    entity_type: X\n    category: secret\n"
            "    patterns: [{name: p, regex: b, score: 1.5}]\n",
            ["x.yaml:5:", "field 'patterns[0].score'", "less than or equal to 1"],
        ),
        (
            "recognizers:\n  - id: x\n    entity_type: X\n    category: secret\n"
            "    patterns: [{name: p, regex: b, score: 0.5}]\n    validator: crc32\n",
            ["x.yaml:6:", "field 'validator'", "unknown validator 'crc32'", "luhn"],
        ),
        (
            "recognizers:\n  - id: x\n    entity_type: X\n    category: secret\n"
            "    patterns: [{name: p, regex: b, score: 0.5}]\n    allow_patterns: ['[a-']\n",
            ["x.yaml:6:", "field 'allow_patterns'", "invalid regex"],
        ),
        (
            "recognizers:\n  - id: x\n    kind: source_code\n    entity_type: X\n"
            "    category: source_code\n    line_threshold: 4\n    dense_line_threshold: 3\n",
            ["recognizer 'x'", "dense_line_threshold must not be below line_threshold"],
        ),
        (
            "analysis:\n  builtin_entities: [PERSON, SOCIAL_MEDIA_HANDLE]\n",
            ["x.yaml:2:", "field 'analysis.builtin_entities'", "SOCIAL_MEDIA_HANDLE"],
        ),
        (
            "analysis:\n  builtin_entities: [PERSON]\n  score_thresholds: {person: 0.5}\n",
            ["x.yaml:3:", "analysis.score_thresholds", "UPPER_SNAKE_CASE"],
        ),
        (
            "recognizers:\n  - id: x\n    entity_type: X\n    category: pii\n"
            "    deny_list: [a]\n    category: secret\n",
            ["x.yaml:6:", "key 'category' appears twice"],
        ),
        ("recognizers: [unclosed\n", ["x.yaml:2:", "invalid YAML"]),
        ("- just\n- a list\n", ["x.yaml:", "top level must be a mapping"]),
        ("version: 2\nrecognizers: []\n", ["x.yaml:1:", "field 'version'"]),
    ],
)
def test_invalid_definitions_name_what_is_wrong(
    tmp_path: Path, body: str, expected: list[str]
) -> None:
    write(tmp_path, "x.yaml", body)
    message = load_error(tmp_path)
    for fragment in expected:
        assert fragment in message, (fragment, message)


def test_all_errors_of_a_file_are_reported_together(tmp_path: Path) -> None:
    write(
        tmp_path,
        "x.yaml",
        """\
        recognizers:
          - id: one
            entity_type: ONE
            category: pii
            deny_list: [a]
            extra_one: 1
          - id: two
            entity_type: TWO
            category: pii
            deny_list: [b]
            extra_two: 2
        """,
    )
    message = load_error(tmp_path)
    assert "recognizer 'one'" in message and "extra_one" in message
    assert "recognizer 'two'" in message and "extra_two" in message
    assert len(message.splitlines()) == 2


def test_analysis_may_appear_in_one_file_only(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", "analysis:\n  builtin_entities: [PERSON]\n")
    second = write(tmp_path, "b.yaml", "analysis:\n  builtin_entities: [US_SSN]\n")
    message = load_error(tmp_path)
    assert str(second) in message and "'analysis' is already set" in message


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        ({}, "no *.yaml files"),
        ({"a.yaml": "recognizers: []\n"}, "defines no detectors"),
    ],
)
def test_empty_directories_are_rejected(
    tmp_path: Path, files: dict[str, str], expected: str
) -> None:
    for name, body in files.items():
        write(tmp_path, name, body)
    assert expected in load_error(tmp_path)


def test_missing_directory_is_rejected(tmp_path: Path) -> None:
    assert "not a directory" in load_error(tmp_path / "nowhere")


def test_unknown_backend_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="detection backend 'spacy-large': unknown"):
        build_detector(SHIPPED, backend="spacy-large")


# --------------------------------------------------------------------------- package surface


def test_public_names_are_sorted_and_importable() -> None:
    assert detection.__all__ == sorted(detection.__all__)
    for name in detection.__all__:
        assert getattr(detection, name) is not None


# --------------------------------------------------------------------------- validators


@pytest.mark.parametrize(
    ("value", "valid"),
    [
        ("4111 1111 1111 1111", True),
        ("4111-1111-1111-1112", False),
        ("79927398713", True),
        ("7", False),
    ],
)
def test_luhn(value: str, valid: bool) -> None:
    assert luhn(value) is valid


def test_entropy_separates_random_from_repeated() -> None:
    assert shannon_entropy("") == 0.0
    assert shannon_entropy("aaaaaaaaaaaaaaaa") == pytest.approx(0.0)
    assert shannon_entropy("0123456789abcdef") == pytest.approx(4.0)
    assert shannon_entropy("Zx8fK2pQ9mW4rT7yB1nC") > 4.0


@pytest.mark.parametrize(
    ("value", "expected"),
    [("supersecretvalue", False), ("1234567890123456", False), ("k7Gq2vXz9LmP", True)],
)
def test_mixed_characters(value: str, expected: bool) -> None:
    assert mixed_characters(value) is expected
