"""Disguised entities are still found, at their ORIGINAL offsets (patterns backend).

Each case hides a value the detector finds when written plainly; the test checks the
entity type and that the reported span, cut from the original text, is the disguised value.
Look-alike characters are written as escapes so that the test source stays readable.
"""

from __future__ import annotations

import base64
import urllib.parse

import pytest

from policy_engine.detection import PatternDetector, load_detector_set
from policy_engine.detection.encoded import MAX_PAYLOADS, find_payloads
from policy_engine.detection.normalize import normalize
from policy_engine.settings import PROJECT_ROOT

CARD = "4111111111111111"
AWS = "AKIAZ7QW3RT5LM2XNB4Y"
GITHUB = "ghp_4Fq9ZrT2mXw8LpK3vN7bY1cD6eH0jS5aQ2uR"


@pytest.fixture(scope="module")
def detector() -> PatternDetector:
    return PatternDetector(load_detector_set(PROJECT_ROOT / "detectors"))


def hits(detector: PatternDetector, text: str) -> list[tuple[str, str, str | None]]:
    return [(s.type, text[s.start : s.end], s.encoded) for s in detector.detect(text)]


@pytest.mark.parametrize(
    ("disguised", "entity_type"),
    [
        ("4111 1111-1111 1111", "CREDIT_CARD"),
        (
            "\uff14\uff11\uff11\uff11\uff11\uff11\uff11\uff11\uff11\uff11\uff11\uff11\uff11\uff11\uff11\uff11",
            "CREDIT_CARD",
        ),
        ("4\u200b111\u200c1111\u200d1111\u20601111", "CREDIT_CARD"),
        ("4111\u202e1111\u202c1111\u200f1111", "CREDIT_CARD"),
        ("4 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1", "CREDIT_CARD"),
        ("four one one one one one one one one one one one one one one one", "CREDIT_CARD"),
        ("5 3 6 - 2 2 - 8 7 2 6", "US_SSN"),
        ("j.doe (at) example (dot) com", "EMAIL_ADDRESS"),
        ("j.doe [at] example [dot] com", "EMAIL_ADDRESS"),
        ("j.doe at example dot com", "EMAIL_ADDRESS"),
        ("\u0410KIAZ7QW3RT5LM2XNB4Y", "AWS_ACCESS_KEY"),  # Cyrillic A
        ("AKIAZ7QW3RT5LM2XNB4\u03a5", "AWS_ACCESS_KEY"),  # Greek Upsilon
        ("AKIA\u200bZ7QW3RT5LM2XNB4Y", "AWS_ACCESS_KEY"),
        ("ghp_4Fq9ZrT2mXw8LpK3vN7bY1cD6eH0jS5aQ2uR", "GITHUB_TOKEN"),
        (
            "\uff23\uff2f\uff2e\uff26\uff29\uff24\uff25\uff2e\uff34\uff29\uff21\uff2c",
            "CLASSIFICATION_MARKING",
        ),
        ("C\u043eNFIDENTIAL", "CLASSIFICATION_MARKING"),  # Cyrillic o
        ("j.doe&#64;example.com", "EMAIL_ADDRESS"),  # HTML character references
        ("j.doe&commat;example&period;com", "EMAIL_ADDRESS"),
        ("&#52;&#x31;11 1111 1111 1111", "CREDIT_CARD"),
        ("536&#45;22&#x2D;8726", "US_SSN"),
        ("&#x41;KIAZ7QW3RT5LM2XNB4Y", "AWS_ACCESS_KEY"),
        ("&#1040;KIAZ7QW3RT5LM2XNB4Y", "AWS_ACCESS_KEY"),  # a reference to a Cyrillic A
        ("536/22/8726", "US_SSN"),  # slashes only, in the shape of an SSN or a card
        ("4111/1111/1111/1111", "CREDIT_CARD"),
        ("536\\u002d22\\u002D8726", "US_SSN"),  # string escapes (JSON, JavaScript, Python)
        ("536\\\\u002d22\\\\u002d8726", "US_SSN"),  # escaped twice (JSON inside JSON)
        ("536\\u002022\\u00208726", "US_SSN"),  # escaped blanks between the digit groups
        ("j.doe\\x40example.com", "EMAIL_ADDRESS"),
        ("\\u0041KIAZ7QW3RT5LM2XNB4Y", "AWS_ACCESS_KEY"),
        ("4111\\u20111111\\u20111111\\u20111111", "CREDIT_CARD"),  # escaped non-breaking hyphens
    ],
)
def test_disguised_value_is_found_at_its_original_span(
    detector: PatternDetector, disguised: str, entity_type: str
) -> None:
    text = f"Please file this: {disguised} thanks"
    found = [(t, value) for t, value, _ in hits(detector, text) if t == entity_type]
    assert found == [(entity_type, disguised)]


@pytest.mark.parametrize(
    ("encode", "encoding"),
    [
        (lambda s: base64.b64encode(s.encode()).decode(), "base64"),
        (lambda s: base64.urlsafe_b64encode(s.encode()).decode().rstrip("="), "base64"),
        (lambda s: s.encode().hex(), "hex"),
        (lambda s: urllib.parse.quote(s, safe=""), "url"),
        (lambda s: base64.b64encode(s.encode().hex().encode()).decode(), "base64+hex"),
    ],
)
def test_encoded_payload_is_decoded_and_the_finding_says_so(
    detector: PatternDetector, encode: object, encoding: str
) -> None:
    payload = encode(f"card {CARD} and token {GITHUB}")  # type: ignore[operator]
    text = f"run this: {payload} ok"
    found = hits(detector, text)
    assert ("CREDIT_CARD", payload, encoding) in found
    assert ("GITHUB_TOKEN", payload, encoding) in found


def test_random_keys_and_commit_hashes_are_not_decoded() -> None:
    text = "commit 9fceb02d0ae598e95dc970b74767f19372d61af8 key k7Gq2vXz9LmP4tRw8YbNq1Wz"
    assert find_payloads(text) == []


def test_decoding_is_bounded() -> None:
    one = base64.b64encode(b"hello there, general").decode()
    assert len(find_payloads(" ".join([one] * (MAX_PAYLOADS + 10)))) == MAX_PAYLOADS


def test_depth_is_bounded(detector: PatternDetector) -> None:
    inner = f"card {CARD}"
    three_deep = base64.b64encode(base64.b64encode(base64.b64encode(inner.encode()))).decode()
    two_deep = base64.b64encode(base64.b64encode(inner.encode())).decode()
    assert [e for t, _, e in hits(detector, two_deep) if t == "CREDIT_CARD"] == ["base64+base64"]
    assert not [t for t, _, _ in hits(detector, three_deep) if t == "CREDIT_CARD"]


def test_plain_ascii_text_is_its_own_view() -> None:
    text = "Nothing to see here: 12 apples, version 1.2.3, see you at noon."
    view = normalize(text)
    assert view.text == text
    assert not view.changed


def test_offsets_map_back_through_both_passes() -> None:
    text = "x\u200b\u200b j.doe (at) ex\u0430mple (dot) com y"
    view = normalize(text)
    assert view.text == "x j.doe@example.com y"
    start = view.text.index("j.doe")
    end = start + len("j.doe@example.com")
    o_start, o_end = view.original_span(start, end)
    assert text[o_start:o_end] == "j.doe (at) ex\u0430mple (dot) com"
    assert view.original_span(0, 1) == (0, 1)
    assert text[slice(*view.original_span(len(view.text) - 1, len(view.text)))] == "y"


def test_ordinary_non_latin_text_is_not_folded() -> None:
    assert normalize("Привет, мир").text == "Привет, мир"
    assert normalize("Saluton ελληνικά").text == "Saluton ελληνικά"


def test_prose_numbers_are_left_alone(detector: PatternDetector) -> None:
    text = "We sold 10 20 30 boxes in 2024-01-02, version 1.2.3, ticket 5 of 9."
    assert normalize(text).text == text
    dates = "Due 12/25/2024, 2024/01/15 or 1/2/2025; see /srv/536/22/8726 and 10/20/30."
    assert normalize(dates).text == dates
    assert hits(detector, text) == []


def test_html_references_map_back_and_unknown_ones_stay() -> None:
    text = "R&D; Q&amp;A &bogus; &#64;x"
    view = normalize(text)
    assert view.text == "R&D; Q&A &bogus; @x"
    at = view.text.index("@")
    assert view.original_span(at, at + 2) == (text.index("&#64;"), len(text))
    assert normalize("no references & here; none").changed is False


def test_string_escapes_map_back_and_lone_surrogates_and_blanks_stay() -> None:
    text = "a \\ud83d\\ude00 b \\ud83d c \\u002D d \\\\x41 e \\users \\U0001F600"
    view = normalize(text)
    assert view.text == "a \U0001f600 b \\ud83d c - d A e \\users \U0001f600"
    dash = view.text.index("-")
    assert text[slice(*view.original_span(dash, dash + 1))] == "\\u002D"
    letter = view.text.index("A")
    assert text[slice(*view.original_span(letter, letter + 1))] == "\\\\x41"
    assert normalize("C:\\temp\\new and \\n \\t").changed is False
    # An escaped blank or control character is part of the value: it stays as written.
    assert normalize('salt = u"\\u0020827634876\\x1b"').changed is False


@pytest.mark.parametrize(
    ("text", "value", "entity_type"),
    [
        ("see report_536-22-8726.pdf", "536-22-8726", "US_SSN"),  # glued on by an underscore
        ("see 536-22-8726_W2.pdf", "536-22-8726", "US_SSN"),
        ("id ssn_536-22-8726_final", "536-22-8726", "US_SSN"),
        ("card_4111 1111-1111 1111 on file", "4111 1111-1111 1111", "CREDIT_CARD"),
    ],
)
def test_a_number_glued_to_a_word_by_an_underscore_is_found(
    detector: PatternDetector, text: str, value: str, entity_type: str
) -> None:
    assert [(t, v) for t, v, _ in hits(detector, text) if t == entity_type] == [
        (entity_type, value)
    ]


def test_underscores_stay_where_no_number_of_those_shapes_is_glued_on() -> None:
    for text in ("build_2024-01-15_v2", "id_1234_5678", "ghp_4Fq9ZrT2mXw8", "snake_case_name"):
        assert normalize(text).text == text
    view = normalize("file_536-22-8726.pdf")
    assert view.text == "file 536-22-8726.pdf"
    assert view.original_span(5, 16) == (5, 16)
