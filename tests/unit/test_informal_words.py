"""Hashtags, chat words, holidays and products are no names; lower-case names are shown to
the model capitalised (no model needed)."""

from __future__ import annotations

import pytest

from policy_engine.detection.informal import not_a_name
from policy_engine.detection.lower_case_names import cased

#: A few English words, as the model's word index would have them.
WORDS = frozenset(
    {"taking", "loving", "question", "tired", "fine", "great", "smith", "team", "mike"}
)


def span_of(text: str, part: str) -> tuple[int, int]:
    start = text.index(part)
    return start, start + len(part)


@pytest.mark.parametrize(
    ("text", "part"),
    [
        ("game tonight #Padres", "Padres"),
        ("Wanna grab lunch?", "Wanna"),
        ("Takin the dog out", "Takin"),
        ("Goodnight everyone", "Goodnight"),
        ("Merry Christmas to all", "Merry Christmas"),
        ("see you after Easter", "Easter"),
        ("Happy New Year's Eve", "Happy New Year's Eve"),
        ("Happy Valentine's Day", "Happy Valentine's Day"),
        ("my AirPods died", "AirPods"),
        ("the ServiceNow ticket", "ServiceNow"),
    ],
)
def test_informal_words_are_no_names(text: str, part: str) -> None:
    assert not_a_name(text, *span_of(text, part), WORDS)


@pytest.mark.parametrize(
    ("text", "part"),
    [
        ("ask Laura Bennett", "Laura Bennett"),
        ("Ronald McDonald called", "Ronald McDonald"),
        ("DeShawn Carter joined", "DeShawn Carter"),
        ("we met Justin at noon", "Justin"),  # ends in "in", but "justing" is no word
        ("the team met Darin", "Darin"),  # not first in its sentence: no dropped g
        ("New York is big", "New York"),  # "new" and "year" words, but no holiday
        ("Christmas Mbeki spoke", "Christmas Mbeki"),  # a holiday word beside a name
        ("Daniel had given Valentine his address", "Valentine"),  # a name, alone
    ],
)
def test_names_stay(text: str, part: str) -> None:
    assert not not_a_name(text, *span_of(text, part), WORDS)


@pytest.mark.parametrize(
    ("text", "view"),
    [
        ("can u ask maria to call me back", "can u ask Maria to call me back"),
        ("talked to john smith yesterday", "talked to John Smith yesterday"),
        ("talked to john yesterday", "talked to John yesterday"),
        ("Thanks sarah! will do", "Thanks Sarah! will do"),
        ("hi, my name is ilse marquardt", "hi, my name is Ilse Marquardt"),
        ("hey its oskar here", "hey its Oskar here"),
        ("thanks team", "thanks Team"),  # shown capitalised; the model tells it is no name
    ],
)
def test_lower_case_names_after_a_cue_are_capitalised(text: str, view: str) -> None:
    shown, spans = cased(text, WORDS)
    assert shown == view
    assert len(shown) == len(text)
    assert all(text[a:b].lower() == shown[a:b].lower() for a, b in spans)


@pytest.mark.parametrize(
    "text",
    [
        "thanks everyone, ask questions and call them later",  # stop words, plurals
        "i'm tired and it's fine, this is great",  # after i'm/it's/this is: words stay
        "this is mike's laptop",  # a word (with its possessive) after an introduction
        "Talked to Laura yesterday",  # nothing in lower case after a cue
        "lol gonna ask someone",
    ],
)
def test_other_words_stay_as_written(text: str) -> None:
    assert cased(text, WORDS) == (text, [])
