"""The NER stage on windows finds what it finds on whole texts (real spaCy model).

The model reads only the windows around capitalised words (``analysis.ner_windows``); on
texts whose names and places stand where the windows look, the entities are the same as
when it reads every text whole, and it reads less.
"""

from __future__ import annotations

import dataclasses

import pytest

from policy_engine.detection import PresidioDetector, load_detector_set
from policy_engine.detection.ner_stage import NerStage
from policy_engine.evaluation.cases import Case, parse_markup
from policy_engine.evaluation.windows import skipped_text_report
from policy_engine.settings import PROJECT_ROOT

pytestmark = pytest.mark.slow

TEXTS = [
    "Customer Laura Bennett called from Portland about her invoice on Thursday.",
    "Please forward the complaint to Arjun Rossi and copy Sofia. The budget is fine.",
    "Mirela Kovač\n4410 Harbour Road\nLeeds LS1 4AP\nUnited Kingdom",
    'Ilse: "Are you coming to the harbour?"\nTomasz: Not tonight, the ferry is late.',
    "Compare the two offers. Oskar, can you send the minutes to Ana in Lisbon?",
    "Our SLA for Q3 is 4 percent. Finance moved the roadmap into Jira last week.",
    "He flew to Nairobi with Kwame Mensah and stayed at the Serena for three days.",
]


@pytest.fixture(scope="module")
def stages() -> tuple[NerStage, NerStage]:
    detector_set = load_detector_set(PROJECT_ROOT / "detectors")
    assert detector_set.analysis.ner_windows  # the shipped default
    windowed = PresidioDetector(detector_set).ner
    whole_set = dataclasses.replace(
        detector_set, analysis=detector_set.analysis.model_copy(update={"ner_windows": False})
    )
    return windowed, NerStage(whole_set, windowed.nlp_engine)


@pytest.mark.parametrize("text", TEXTS)
def test_windows_find_what_the_whole_text_gives(
    stages: tuple[NerStage, NerStage], text: str
) -> None:
    windowed, whole = stages
    found = [(s.type, s.start, s.end) for s in windowed.detect(text)]
    assert found == [(s.type, s.start, s.end) for s in whole.detect(text)]


def test_the_texts_hold_names_and_places(stages: tuple[NerStage, NerStage]) -> None:
    windowed, _ = stages
    types = [{s.type for s in windowed.detect(text)} for text in TEXTS]
    assert sum("PERSON" in found for found in types) >= 4
    assert sum("LOCATION" in found for found in types) >= 3


def test_the_model_reads_less_of_business_prose(stages: tuple[NerStage, NerStage]) -> None:
    windowed, whole = stages
    text = (
        "Please summarize the attached meeting notes in three bullet points. Our SLA for "
        "Q3 is 4 percent. Finance moved the roadmap into Jira last week. Revenue grew "
        "slightly in the second quarter while costs stayed flat. "
    ) * 3
    assert sum(len(p) for _, p in windowed.pieces(text)) < len(text) / 2
    assert whole.pieces(text) == [(0, text)]


def test_text_without_candidates_is_not_given_to_the_model(
    stages: tuple[NerStage, NerStage],
) -> None:
    windowed, _ = stages
    assert windowed.pieces("the review moved to the afternoon; nothing else changed.") == []


def test_the_evaluation_counts_names_in_the_skipped_text(
    stages: tuple[NerStage, NerStage],
) -> None:
    windowed, _ = stages
    detector_set = load_detector_set(PROJECT_ROOT / "detectors")
    text, gold = parse_markup(
        "the invoice from [[PERSON:bennett]] is late. Ask [[PERSON:Laura Okafor]] in "
        "[[LOCATION:Lisbon]] about it."
    )
    case = Case(id="c", text=text, gold=gold, category="pii", origin="project")
    report = skipped_text_report([case], detector_set, windowed)
    assert report["gold_in_skipped_text"] == {"PERSON": 1, "LOCATION": 0}
    assert 0 < report["characters_read_share"] < 1
    stage = report["ner_stage"]["windows"]
    assert stage["PERSON"]["gold"] == 2 and stage["PERSON"]["recall"] == 0.5
    assert stage["LOCATION"]["recall"] == 1.0
