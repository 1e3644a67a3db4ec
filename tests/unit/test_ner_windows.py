"""Where the NER stage runs the model: candidates for names and places, and their windows."""

from __future__ import annotations

import pytest

from policy_engine.detection.ner_windows import candidates, windows


def words(text: str) -> list[str]:
    return [text[c.start : c.end] for c in candidates(text)]


def test_capitalised_words_off_sentence_start_are_candidates() -> None:
    text = "We met Laura Bennett and the UK team in Lisbon."
    assert words(text) == ["Laura", "Bennett", "UK", "Lisbon"]


@pytest.mark.parametrize(
    "text",
    [
        "The quarterly review moved to the afternoon.",
        "Please summarize the attached notes.",
        "Draft a short note about the budget. Compare the two offers.",
        "I think revenue grew in Q3 and H1.",
        "We meet on Thursday in March, not in November.",
    ],
)
def test_prose_without_names_has_no_candidates(text: str) -> None:
    assert words(text) == []


def test_first_words_count_unless_stop_words_or_followed_by_a_determiner() -> None:
    assert words("Laura asked for the file.") == ["Laura"]
    assert words("Send them the file. Shipping delays fell.") == ["Shipping"]
    assert [c.first for c in candidates("Laura asked. Then Oskar left.")] == [True, False]


def test_titles_and_initials_do_not_end_a_sentence() -> None:
    found = candidates("I spoke with Mr. Okafor and J. Tanaka today.")
    assert [(c.first) for c in found] == [False, False, False, False]


def test_a_line_start_is_no_sentence_start() -> None:
    # Address blocks and signatures put names and places first on their lines.
    found = candidates("Deliver to 17 Quarry Lane\nNorth Haven\nSpain 19595")
    assert [c.first for c in found if c.start > 25] == [False, False, False]


def test_possessive_weekdays_and_months_that_are_names_stay() -> None:
    assert words("See you at Friday's meeting in May with June.") == ["May", "June"]


def test_windows_keep_two_tokens_each_side_and_merge() -> None:
    text = "one two three four Laura five six seven eight nine Oskar ten eleven"
    assert [text[a:b] for a, b in windows(text)] == [
        "three four Laura five six",
        "eight nine Oskar ten eleven",
    ]
    close = "one two Laura three Oskar four five six"
    assert [close[a:b] for a, b in windows(close)] == ["one two Laura three Oskar four five"]


def test_a_first_word_keeps_the_context_on_both_sides() -> None:
    text = "It was late. Laura asked for more time today."
    assert [text[a:b] for a, b in windows(text)] == ["was late. Laura asked for"]


def test_context_tokens_run_from_blank_to_blank() -> None:
    text = '{"sub":"1","name":"John Doe","iat":15}'
    assert windows(text) == [(0, len(text))]


def test_no_candidates_no_windows() -> None:
    assert windows("nothing capitalised here, only 42 numbers.") == []


def test_near_the_start_the_missing_context_is_taken_after() -> None:
    # "Plain words about" alone is a place to the model; with its sentence it is not.
    text = "Plain words about gardening and weather."
    assert [text[a:b] for a, b in windows(text)] == ["Plain words about gardening and"]
