"""PERSON post-processing of the model's entities (policy_engine.detection.person_names).

The rules take ``(spaCy label, start, end)`` entities and an English word list, so they are
tested here without the model, on a small hand-written word list.
"""

from __future__ import annotations

import pytest

from policy_engine.detection.person_names import (
    English,
    in_dictionary,
    is_place,
    name_shaped,
    person_spans,
    trim_name,
)
from policy_engine.detection.plausibility import filter_implausible
from policy_engine.models import DetectedSpan

WORDS = frozenset(
    {"entertainment", "weekly", "producer", "discipline", "wisdom", "communication",
     "navigation", "data", "network", "city", "company", "limited", "stop", "shopper",
     "young", "baker", "agenda", "library"}
)  # fmt: skip


def entity(text: str, value: str, label: str, nth: int = 0) -> tuple[str, int, int]:
    start = -1
    for _ in range(nth + 1):
        start = text.index(value, start + 1)
    return (label, start, start + len(value))


def names(text: str, entities: list[tuple[str, int, int]]) -> list[tuple[str, str]]:
    return [(n.rule, text[n.start : n.end]) for n in person_spans(text, entities, WORDS)]


@pytest.mark.parametrize(
    ("word", "expected"),
    [("Discipline", True), ("networks", True), ("Cities", True), ("Janeba", False)],
)
def test_in_dictionary_knows_plurals(word: str, expected: bool) -> None:
    assert in_dictionary(word, WORDS) is expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Hysni Njivar\n\nWater and", "Hysni Njivar"),
        ("Dana Sukhorukova\\n??? 7545", "Dana Sukhorukova"),  # a JSON-escaped line break
        ("Riku Andou's", "Riku Andou"),
        ("ex-Zombie Yli-Sirniö", "Yli-Sirniö"),
        ("Bistrica\n Slovenia 90994", None),  # one word before the break: a town
        ("USS Anderson\nFPO AA", None),  # a word in capitals is no name
        ("commit ed65b650 Add", None),  # only one leading lower-case word is cut
        ("CA\n United", None),
    ],
)
def test_trim_name(value: str, expected: str | None) -> None:
    text = f"<{value}>"
    trimmed = trim_name(text, 1, 1 + len(value))
    assert (None if trimmed is None else text[trimmed[0] : trimmed[1]]) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Karel Janeba", "Karel Janeba"),
        ("Anja R Fuchs", "Anja R Fuchs"),
        ("Riku Andou's", "Riku Andou"),
        ("Producer Cettina Fanucci", "Cettina Fanucci"),  # a leading common word is a title
        ("Entertainment Weekly", None),
        ("Insufficient Data", None),
        ("Mazda Ltd", None),
        ("SomeClass Helper", None),
        ("Anja R", None),
        ("Fanucci", None),
        ("Producer Fanucci", None),
    ],
)
def test_name_shaped(value: str, expected: str | None) -> None:
    shaped = name_shaped(value, WORDS)
    assert (None if shaped is None else value[shaped[0] : shaped[1]]) == expected


def test_name_shaped_entities_of_other_labels_become_names_places_do_not() -> None:
    text = "Follow up with Karel Janeba and Lake Ohrid in Buenos Aires, says Entertainment Weekly."
    entities = [
        entity(text, "Karel Janeba", "ORG"),
        entity(text, "Lake Ohrid", "ORG"),  # "lake" is an English word
        entity(text, "Buenos Aires", "GPE"),
        entity(text, "Entertainment Weekly", "ORG"),
    ]
    found = person_spans(text, entities, WORDS | {"lake"})
    assert [(n.rule, text[n.start : n.end]) for n in found] == [("label", "Karel Janeba")]


def test_model_names_are_cut_to_the_name() -> None:
    text = "Hysni Njivar\n\nWater treatment operator"
    assert names(text, [entity(text, "Hysni Njivar\n\nWater", "PERSON")]) == [
        ("edges", "Hysni Njivar")
    ]


def test_a_found_name_is_found_again_by_one_of_its_words() -> None:
    text = "A film directed by Anne-Lise Frederiksen and starring Frederiksen, shot in Frederiksen."
    entities = [
        entity(text, "Anne-Lise Frederiksen", "PERSON"),
        entity(text, "Frederiksen", "GPE", nth=2),  # inside a place's entity: not repeated
    ]
    assert names(text, entities) == [
        ("model", "Anne-Lise Frederiksen"),
        ("repeat", "Frederiksen"),
    ]
    assert text.index("Frederiksen,") == person_spans(text, entities, WORDS)[1].start


def test_dictionary_words_of_a_name_are_not_repeated() -> None:
    text = "Grace Baker met us. Baker is a trade."
    assert names(text, [entity(text, "Grace Baker", "PERSON")]) == [("model", "Grace Baker")]


def test_words_listed_with_a_name_are_names() -> None:
    text = "They had four: Alik, Andrew, Karen and Ashley. Gustavsson, Baker and Young founded it."
    entities = [entity(text, "Andrew", "PERSON"), entity(text, "Gustavsson", "PERSON")]
    assert sorted(value for rule, value in names(text, entities) if rule == "list") == [
        "Alik",
        "Ashley",
        "Baker",
        "Karen",
        "Young",
    ]


def test_lists_of_common_words_and_longer_names_are_left_alone() -> None:
    text = "Words like Wisdom and Discipline. I met Anna and Mr Smith."
    entities = [entity(text, "Discipline", "PERSON"), entity(text, "Anna", "PERSON")]
    assert [value for _, value in names(text, entities)] == ["Discipline", "Anna"]


def test_names_in_text_that_is_not_english_are_dropped() -> None:
    german = (
        "Die kurze Geschichte elektronischer Medien vom Telegramm bis zum Fernsehen wird so "
        "zur Vorgeschichte des Computers als Medium."
    )
    english = "The short history of electronic media from the telegraph to Fernsehen is told."
    assert names(german, [entity(german, "Fernsehen", "PERSON")]) == []
    assert names(english, [entity(english, "Fernsehen", "PERSON")]) == [("model", "Fernsehen")]
    form = "Name:\nHelga Brandt\nAbteilung Einkauf"  # too few words to tell: kept
    assert English(form).around(form.index("Helga"), form.index("Helga") + 12)


def test_full_names_the_model_found_are_kept_in_text_that_is_not_english() -> None:
    """A missed name sends personal data to an untrusted endpoint; a wrong one only
    narrows the choice: two-word model names stay, one-word ones and relabelled
    entities go."""
    french = (
        "Merci d'envoyer la facture à Jean Dupont, qui habite à Lyon depuis trois ans avec "
        "sa famille et ses enfants."
    )
    found = names(
        french,
        [
            entity(french, "Jean Dupont", "PERSON"),
            entity(french, "Lyon", "PERSON"),
            entity(french, "Merci", "ORG"),
        ],
    )
    assert found == [("model", "Jean Dupont")]
    german = (
        "Der Prozess der Mediatisierung der Rechnernetze soll in der Technik untersucht "
        "werden, sagt die kurze Geschichte der Medien."
    )
    phrase = entity(german, "Mediatisierung der Rechnernetze", "PERSON")
    assert names(german, [phrase]) == []  # a noun phrase, not a name


@pytest.mark.parametrize(
    ("text", "name", "expected"),
    [
        ("lives at 16957 Baarlandhof 68, Rotterdam", "Rotterdam", True),
        ("Bécsi utca 35., Kisbarát", "Kisbarát", True),
        ("Mr. Grant flew to Northcross on Friday", "Northcross", True),
        ("We moved here from Vila Meã", "Vila Meã", True),
        ("originally from Lisboa, and", "Lisboa", True),
        ("I am in Warszawa for a trip", "Warszawa", True),
        ("Pachergasse 64\nVejstrup\n, SY\n 43945", "Vejstrup", True),
        ("Apt. 194\\n??? Beerze\\n??? Netherlands", "Beerze", True),
        ("Call 555 1234\nJohn Smith, our agent", "John Smith", False),
        ("During 1977, Johnson invested", "Johnson", False),  # a year, not a house number
        ("Room 12 was booked by Johnson", "Johnson", False),
        ("a letter from Johnson came", "Johnson", False),
        ("She lives in Anna's flat", "Anna", False),
    ],
)
def test_is_place(text: str, name: str, expected: bool) -> None:
    start = text.index(name)
    assert is_place(text, start, start + len(name)) is expected


def person(text: str, value: str) -> DetectedSpan:
    start = text.index(value)
    return DetectedSpan(
        type="PERSON", category="pii", start=start, end=start + len(value), score=0.85, detector="t"
    )


@pytest.mark.parametrize(
    ("text", "value", "kept"),
    [
        ("AFC Ajax NV is a design agency.", "Ajax", False),
        ("Dr Hoenle AG and partners", "Hoenle", False),
        ("Barsukov of Domino's Pizza Inc. is the CEO", "Domino", False),
        ("The Lion Group Holding Ltd. Orchestra was founded", "Orchestra", False),
        ("Cerys Holt of New Jersey Mining Company", "Cerys Holt", True),
        ("Agenda:\n- budget review", "Agenda", False),
        ("Calvin: Remember me?", "Calvin", True),
        ("Dear Mr. Smith:\nThank you.", "Smith", True),
        ("name,email\nJana Novak,jana.novak@example.com,Finance", "Jana Novak", True),
        ("Eumetsat,Roscosmos,Copernicus", "Roscosmos", False),
    ],
)
def test_company_names_headings_and_csv_rows(text: str, value: str, kept: bool) -> None:
    span = person(text, value)
    assert (filter_implausible(text, [span]) == [span]) is kept


def test_a_word_the_text_also_writes_in_lower_case_is_no_name() -> None:
    text = "It cannot convert NULL.\n\nConvert a string to bytes. Ask Grant or Navigation."
    entities = [
        entity(text, "Convert", "PERSON"),
        entity(text, "Grant", "PERSON"),
        entity(text, "Navigation", "PERSON"),
    ]
    # "convert" is no word of the small list: it counts only once the list knows it
    assert [v for _, v in names(text, entities)] == ["Convert", "Grant", "Navigation"]
    found = person_spans(text, entities, WORDS | {"convert", "grant"})
    assert [text[n.start : n.end] for n in found] == ["Grant", "Navigation"]
