"""The evaluation harness: span matching, rates, case files, and one small real run."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from policy_engine.evaluation.cases import Case, parse_markup, read_case_file, read_project_cases
from policy_engine.evaluation.run import evaluate
from policy_engine.evaluation.scoring import Span, false_alarm_rate, match_case, score
from policy_engine.settings import PROJECT_ROOT

TYPES = frozenset({"EMAIL_ADDRESS", "PERSON", "SECRET"})


def test_exact_and_overlapping_spans_match() -> None:
    gold: list[Span] = [("EMAIL_ADDRESS", 10, 27)]
    assert match_case(gold, [("EMAIL_ADDRESS", 10, 27)], TYPES).by_type["EMAIL_ADDRESS"].f1 == 1
    assert match_case(gold, [("EMAIL_ADDRESS", 20, 40)], TYPES).by_type["EMAIL_ADDRESS"].f1 == 1
    touching = match_case(gold, [("EMAIL_ADDRESS", 27, 40)], TYPES).by_type["EMAIL_ADDRESS"]
    assert (touching.recall, touching.precision) == (0.0, 0.0)


def test_a_miss_lowers_recall_and_a_false_alarm_lowers_precision() -> None:
    gold: list[Span] = [("PERSON", 0, 5), ("PERSON", 10, 15)]
    perfect = score([(gold, gold)], TYPES).by_type["PERSON"]
    missed = score([(gold, [("PERSON", 0, 5)])], TYPES).by_type["PERSON"]
    extra = score([(gold, [*gold, ("PERSON", 20, 25)])], TYPES).by_type["PERSON"]
    assert (perfect.precision, perfect.recall) == (1.0, 1.0)
    assert (missed.precision, missed.recall) == (1.0, 0.5)
    assert extra.recall == 1.0 and extra.precision == pytest.approx(2 / 3)


def test_wrong_type_is_a_miss_and_untracked_types_are_ignored() -> None:
    gold: list[Span] = [("PERSON", 0, 5)]
    scores = score([(gold, [("EMAIL_ADDRESS", 0, 5), ("DATE_TIME", 0, 5)])], TYPES)
    assert scores.by_type["PERSON"].recall == 0.0
    assert scores.by_type["EMAIL_ADDRESS"].precision == 0.0
    assert "DATE_TIME" not in scores.by_type


def test_one_prediction_may_recall_several_split_gold_spans() -> None:
    gold: list[Span] = [("PERSON", 0, 4), ("PERSON", 5, 9)]
    counts = score([(gold, [("PERSON", 0, 9)])], TYPES).by_type["PERSON"]
    assert (counts.recall, counts.precision) == (1.0, 1.0)


def test_false_alarm_rate_counts_cases_without_gold() -> None:
    group = frozenset({"SECRET"})
    cases: list[tuple[list[Span], list[Span]]] = [
        ([], [("SECRET", 0, 3)]),
        ([], []),
        ([], [("PERSON", 0, 3)]),
        ([("SECRET", 0, 3)], [("SECRET", 0, 3)]),  # a positive: not counted
    ]
    rate = false_alarm_rate(cases, group)
    assert (rate.cases, rate.flagged) == (3, 1)


def test_markup_gives_offsets() -> None:
    text, gold = parse_markup("Mail [[EMAIL_ADDRESS:a@b.example]] or [[PERSON:Ann Lee]].")
    assert text == "Mail a@b.example or Ann Lee."
    assert [(t, text[s:e]) for t, s, e in gold] == [
        ("EMAIL_ADDRESS", "a@b.example"),
        ("PERSON", "Ann Lee"),
    ]


def test_shipped_cases_are_well_formed() -> None:
    cases = read_project_cases(PROJECT_ROOT / "eval" / "cases")
    assert len({c.id for c in cases}) == len(cases)
    assert any(c.evasion for c in cases) and any(not c.evasion for c in cases)
    for case in cases:
        assert "[[" not in case.text, case.id
        for _, start, end in case.gold:
            assert 0 <= start < end <= len(case.text), case.id


def test_bad_case_file_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("cases:\n  - {id: x, text: hello}\n", encoding="utf-8")
    with pytest.raises(Exception, match=r"bad\.yaml: case #1 needs id, text and category"):
        read_case_file(path)


@dataclass
class LookupSystem:
    """A real System: answers from a table (what a perfect or a blind detector would say)."""

    name: str
    answers: dict[str, list[Span]]
    supported: frozenset[str] = TYPES

    def predict(self, text: str) -> list[Span]:
        return self.answers.get(text, [])


def test_evaluate_reports_targets_and_evasion_apart() -> None:
    cases = [
        Case("a", "Ann wrote", (("PERSON", 0, 3),), "pii", "project"),
        Case("b", "key k", (("SECRET", 4, 5),), "secret", "project"),
        Case("c", "no key here", (), "secret", "project"),
        Case("d", "A\u200bnn", (("PERSON", 0, 4),), "pii", "project", evasion=True),
    ]
    perfect = LookupSystem("perfect", {c.text: list(c.gold) for c in cases})
    blind = LookupSystem("blind", {"no key here": [("SECRET", 0, 2)]})
    result = evaluate(cases, [perfect, blind])
    assert result["systems"]["perfect"]["by_type"]["PERSON"]["f1"] == 1.0
    assert result["systems"]["blind"]["by_type"]["PERSON"]["recall"] == 0.0
    assert result["systems"]["perfect"]["evasion"]["PERSON"]["recall"] == 1.0
    assert result["systems"]["blind"]["evasion"]["PERSON"]["recall"] == 0.0
    secrets_fp = next(t for t in result["targets"] if t["name"].startswith("secrets false"))
    assert secrets_fp["values"] == {"perfect": 0.0, "blind": 1.0}
    assert secrets_fp["met"] == {"perfect": True, "blind": False}


@pytest.mark.slow
def test_harness_runs_on_a_small_sample(tmp_path: Path) -> None:
    out = tmp_path / "eval"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "policy_engine.evaluation",
            "--backend",
            "patterns",
            "--generate",
            "0",
            "--evaldata",
            str(tmp_path / "absent"),
            "--limit",
            "30",
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    data = json.loads((out / "eval.json").read_text(encoding="utf-8"))
    assert data["matching"] == "exact-or-overlap"
    assert data["data"] == {"project": 30}
    assert set(data["systems"]) == {"ours (patterns)", "presidio default"}
    assert "| target | threshold |" in (out / "eval.md").read_text(encoding="utf-8")
    assert "## Per category" in result.stdout
