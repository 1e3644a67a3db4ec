"""Evasions the normalized view undoes: dash look-alikes in numbers, one number with several
separators, words with their letters spaced out; and what it must leave alone."""

from __future__ import annotations

import pytest

from policy_engine.detection import PatternDetector, load_detector_set
from policy_engine.detection.normalize import normalize
from policy_engine.settings import PROJECT_ROOT


@pytest.fixture(scope="module")
def detector() -> PatternDetector:
    return PatternDetector(load_detector_set(PROJECT_ROOT / "detectors"))


@pytest.mark.parametrize(
    ("disguised", "plain"),
    [
        ("536\u201122\u20118190", "536-22-8190"),  # non-breaking hyphen
        ("536\u221222\u22128190", "536-22-8190"),  # minus sign
        ("4539\u20131488\u20130343\u20136467", "4539-1488-0343-6467"),  # en dash
        ("4539 \u2014 1488 \u2014 0343 \u2014 6467", "4539-1488-0343-6467"),  # em dash, blanks
        ("4539\u00b71488\u00b70343\u00b76467", "4539-1488-0343-6467"),  # middle dot
        ("4539 1488-0343.6467", "4539-1488-0343-6467"),
        ("536-22 8190", "536-22-8190"),
        ("212.555-0187", "212-555-0187"),
        ("٥٣٦-٢٢-٨١٩٠", "536-22-8190"),  # Arabic-Indic
        ("५३६-२२-८१९०", "536-22-8190"),  # Devanagari
        ("C O N F I D E N T I A L", "CONFIDENTIAL"),
        ("I N T E R N A L   U S E   O N L Y", "INTERNAL USE ONLY"),
        ("C.O.N.F.I.D.E.N.T.I.A.L", "CONFIDENTIAL"),
        ("S-T-R-I-C-T-L-Y / C-O-N-F-I-D-E-N-T-I-A-L", "STRICTLY CONFIDENTIAL"),
    ],
)
def test_the_view_undoes_the_disguise(disguised: str, plain: str) -> None:
    view = normalize(f"see {disguised} here")
    assert view.text == f"see {plain} here"
    start = view.text.index(plain)
    assert view.original_span(start, start + len(plain)) == (4, 4 + len(disguised))


@pytest.mark.parametrize(
    ("disguised", "entity_type"),
    [
        ("SSN 536\u201122\u20118190", "US_SSN"),
        ("card 4539\u20131488\u20130343\u20136467", "CREDIT_CARD"),
        ("card 4539 1488-0343.6467", "CREDIT_CARD"),
        ("her SSN is 536-22 8190", "US_SSN"),
        ("my SSN is ٥٣٦-٢٢-٨١٩٠", "US_SSN"),
        ("I N T E R N A L   U S E   O N L Y - roadmap", "CLASSIFICATION_MARKING"),
    ],
)
def test_disguised_values_are_found(
    detector: PatternDetector, disguised: str, entity_type: str
) -> None:
    assert entity_type in {s.type for s in detector.detect(disguised)}


@pytest.mark.parametrize(
    "text",
    [
        "Open 9\u201317 on weekdays, pages 12\u201318 of the report.",  # no number of a shape
        "Rates went from 1.5 - 2.5 to 3.25/4.75 percent.",
        "Block 10.20.30.40 - 10.20.30.50 at the firewall.",
        "The outage started 2024-03-12 10.30 and ended at noon.",
        "Pick an option and explain why, in a few words.",
        "The em dash\u2014in prose\u2014stays as it is.",
    ],
)
def test_numbers_and_words_that_are_no_disguise_keep_their_shape(text: str) -> None:
    # A dash between digits becomes "-" (a range reads the same); nothing else changes.
    assert normalize(text).text == text.replace("\u2013", "-")


def test_a_date_and_hour_are_no_phone_number(detector: PatternDetector) -> None:
    text = "The outage started 2024-03-12 10.30 and ended at noon."
    assert [s.type for s in detector.detect(text)] == []
