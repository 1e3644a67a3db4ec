"""Informal text with the real model: no names from hashtags, chat words, holidays or
products; names written in lower case after a cue are found."""

from __future__ import annotations

import pytest

from policy_engine.detection import PresidioDetector, load_detector_set
from policy_engine.settings import PROJECT_ROOT

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def detector() -> PresidioDetector:
    return PresidioDetector(load_detector_set(PROJECT_ROOT / "detectors"))


def names_and_places(detector: PresidioDetector, text: str) -> list[tuple[str, str]]:
    return [
        (s.type, text[s.start : s.end])
        for s in detector.detect(text)
        if s.type in ("PERSON", "LOCATION")
    ]


@pytest.mark.parametrize(
    "text",
    [
        "Wanna grab lunch tmrw? #Padres game is at 7",
        "Merry Christmas and Happy Hanukkah from all of us",
        "Cant wait for Easter break, Kinda tired of this sprint",
        "Yall coming to the Diwali party on Saturday?",
    ],
)
def test_informal_words_are_not_reported(detector: PresidioDetector, text: str) -> None:
    assert names_and_places(detector, text) == []


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("talked to john okafor yesterday about the invoice", "john okafor"),
        ("can u ask maria to call me back", "maria"),
        ("Thanks sarah! will do", "sarah"),
    ],
)
def test_lower_case_names_are_found_as_written(
    detector: PresidioDetector, text: str, name: str
) -> None:
    assert names_and_places(detector, text) == [("PERSON", name)]


def test_a_capitalised_cue_word_reports_no_place(detector: PresidioDetector) -> None:
    assert names_and_places(detector, "can u ping devops about the outage") == []
