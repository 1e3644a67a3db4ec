"""Merging the stages' spans, and cutting long texts for NER (no model needed)."""

from __future__ import annotations

import random

from policy_engine.detection.ner_stage import chunks, merge_stage_spans
from policy_engine.models import DetectedSpan


def span(type_: str, start: int, end: int, score: float, category: str = "pii") -> DetectedSpan:
    return DetectedSpan(
        type=type_, category=category, start=start, end=end, score=score, detector=f"d:{type_}"
    )


def test_a_name_inside_a_secret_or_code_is_dropped() -> None:
    secret = span("API_KEY", 10, 40, 0.9, "secret")
    inside = span("PERSON", 12, 20, 0.85)
    outside = span("PERSON", 50, 60, 0.85)
    merged = merge_stage_spans([secret], [inside, outside])
    assert merged == [secret, outside]


def test_a_name_inside_personal_data_is_kept() -> None:
    email = span("EMAIL_ADDRESS", 0, 30, 1.0)
    name = span("PERSON", 0, 8, 0.85)
    assert merge_stage_spans([email], [name]) == [name, email]


def test_a_span_inside_a_stronger_one_of_its_type_goes() -> None:
    ner = span("PERSON", 8, 20, 0.85)
    strong_cue = span("PERSON", 4, 20, 0.9)  # wider and stronger: the NER span inside goes
    assert merge_stage_spans([strong_cue], [ner]) == [strong_cue]
    weak_inside = span("PERSON", 8, 14, 0.6)  # narrower and weaker: it goes
    assert merge_stage_spans([weak_inside], [ner]) == [ner]
    weak_wider = span("PERSON", 4, 20, 0.6)  # wider but weaker: not inside, both stay
    assert merge_stage_spans([weak_wider], [ner]) == [weak_wider, ner]


def test_equal_scores_keep_the_longer_span_and_one_of_two_equal_spans() -> None:
    long = span("PERSON", 0, 12, 0.85)
    short = span("PERSON", 5, 12, 0.85)
    assert merge_stage_spans([short], [long]) == [long]
    assert merge_stage_spans([long], [long.model_copy()]) == [long]


def test_overlapping_spans_of_different_types_all_stay() -> None:
    a, b = span("PERSON", 0, 10, 0.85), span("LOCATION", 0, 10, 0.85)
    assert merge_stage_spans([a], [b]) == [b, a]  # sorted by (start, end, type)


def test_chunks_cover_the_text_in_order_within_the_limit() -> None:
    rng = random.Random(7)
    words = ["Laura", "met", "Marcus.", "The", "plan\n", "is", "fine.\n\n", "ok"]
    text = " ".join(rng.choice(words) for _ in range(5000))
    pieces = list(chunks(text, 1000))
    assert "".join(piece for _, piece in pieces) == text
    assert all(len(piece) <= 1000 for _, piece in pieces)
    assert [offset for offset, _ in pieces] == [
        sum(len(p) for _, p in pieces[:i]) for i in range(len(pieces))
    ]
    # Every cut is at a line end or after a blank: no word is split.
    for _, piece in pieces[:-1]:
        assert piece[-1] in " \n\t"


def test_a_blank_line_is_preferred_and_a_run_without_breaks_is_cut_hard() -> None:
    text = "a" * 700 + "\n\n" + "b" * 200 + "\n" + "c" * 300
    first, rest = list(chunks(text, 1000))
    assert first == (0, "a" * 700 + "\n\n")
    assert rest == (702, "b" * 200 + "\n" + "c" * 300)
    hard = [(0, "x" * 1000), (1000, "x" * 1000), (2000, "x" * 500)]
    assert list(chunks("x" * 2500, 1000)) == hard


def test_short_texts_are_one_piece() -> None:
    assert list(chunks("Laura met Marcus.", 1000)) == [(0, "Laura met Marcus.")]
    assert list(chunks("", 1000)) == []


def test_places_and_names_inside_a_street_address_are_dropped() -> None:
    address = span("STREET_ADDRESS", 10, 50, 0.85)
    town = span("LOCATION", 30, 40, 0.85)
    street = span("PERSON", 15, 25, 0.85)
    elsewhere = span("LOCATION", 60, 70, 0.85)
    assert merge_stage_spans([address], [street, town, elsewhere]) == [address, elsewhere]
