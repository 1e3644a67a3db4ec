"""Street addresses as one span: a street line, extended by pyap2's full-address grammar."""

from __future__ import annotations

import random

import pytest

from policy_engine.detection.prefilter import Prefilter
from policy_engine.detection.street_address import StreetAddressRecognizer


@pytest.fixture(scope="module")
def recognizer() -> StreetAddressRecognizer:
    return StreetAddressRecognizer(name="yaml:pii/street_address")


def found(recognizer: StreetAddressRecognizer, text: str) -> list[tuple[str, float]]:
    return [(text[r.start : r.end], r.score) for r in recognizer.analyze(text, [])]


FULL_ADDRESSES = [
    ("Ship it to ", "554 Flores Drive Port Dylan, UT 26249", " by Friday."),
    ("We moved to ", "2301 W. Elmwood Blvd., Suite 300, Austin, TX 78701", " last spring."),
    ("Deliver to ", "17 Quarry Lane\nNorth Haven, CT 06473", ""),
    ("Send the samples to ", "4410 Old Mill Rd, Boise, Idaho 83702", "."),
    ("", "PO Box 4471, Tulsa, OK 74101", " is the billing address."),
    ("Meet at ", "221 Baker Street, London NW1 6XE", " tomorrow."),
    ("Office: ", "410 Rue Sainte-Catherine Ouest, Montreal, QC H3B 1A2", ""),
    ("RETURN TO ", "88 MAPLE AVE, SPRINGFIELD, IL 62704", ""),
]


@pytest.mark.parametrize(("before", "address", "after"), FULL_ADDRESSES)
def test_a_full_address_is_one_span(
    recognizer: StreetAddressRecognizer, before: str, address: str, after: str
) -> None:
    assert found(recognizer, before + address + after) == [(address, 0.85)]


def test_a_street_line_alone_scores_lower(recognizer: StreetAddressRecognizer) -> None:
    assert found(recognizer, "I live at 72 Chestnut Street, come by.") == [
        ("72 Chestnut Street", 0.6)
    ]


@pytest.mark.parametrize(
    "text",
    [
        "We drove 20 miles down the highway before lunch.",
        "Version 2 Drive sync ships in March with 40 new features.",
        "We need 3 Court approvals before 10 Drive updates roll out.",
        "In 1999 Main Street banks lent more than Wall Street.",
        "Room 12 Building B is booked for the 3 PM meeting.",
        "Revenue grew 4 percent in Q3 while costs stayed flat.",
    ],
)
def test_numbers_before_capitalised_words_are_not_addresses(
    recognizer: StreetAddressRecognizer, text: str
) -> None:
    assert found(recognizer, text) == []


def test_the_prefilter_windows_give_the_same_addresses(
    recognizer: StreetAddressRecognizer,
) -> None:
    prefilter = Prefilter(recognizer.regexes)
    rng = random.Random(19)
    pieces = [
        "Ship it to 554 Flores Drive Port Dylan, UT 26249.",
        "We drove 20 miles down the highway.",
        "Order 4410 Old Mill Rd was filed in 1999.",
        "She lives at 12 Quarry Lane.",
        "The quarterly review moved to Thursday.",
        "PO Box 77, Reno, NV 89502",
    ]
    for _ in range(40):
        text = " ".join(rng.choice(pieces) for _ in range(rng.randint(1, 30)))
        hits = prefilter.scan(text)
        assert hits is not None
        windowed = recognizer.analyze_windows(text, [hits.windowing(0)])
        whole = recognizer.analyze(text, [])
        assert [(r.start, r.end, r.score) for r in windowed] == [
            (r.start, r.end, r.score) for r in whole
        ]


def test_only_its_entity_type(recognizer: StreetAddressRecognizer) -> None:
    assert recognizer.analyze("554 Flores Drive Port Dylan, UT 26249", ["PERSON"]) == []
