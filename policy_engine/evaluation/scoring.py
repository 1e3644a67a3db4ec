"""Precision, recall and F1 per entity type and per category, from spans.

Span matching is **exact-or-overlap**: a predicted span and a gold span of the same
(evaluation) type match when they share at least one character; an exact match is the
special case. Recall counts gold spans that some prediction matches; precision counts
predictions that match some gold span. So one prediction covering a whole address that the
gold labels split into three LOCATION spans recalls all three, and two predictions over one
gold span are both correct. Only types in the evaluated set are counted: predictions of
other types (DATE_TIME from Presidio, for example) are ignored, not counted as errors.

Record-level rates: for a type group, the false-positive rate is the share of cases
without any gold span of the group that get at least one prediction of the group.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

Span = tuple[str, int, int]  # (evaluation type, start, end)

#: The category of each evaluation type that is not personal data.
NON_PII_CATEGORY = {
    "SECRET": "secret",
    "CLASSIFICATION_MARKING": "ip_marker",
    "PROPRIETARY_NOTICE": "ip_marker",
    "CODENAME": "ip_marker",
    "SOURCE_CODE": "source_code",
}


def category_of(entity_type: str) -> str:
    return NON_PII_CATEGORY.get(entity_type, "pii")


@dataclass
class Counts:
    """Matched and total counts for one type or group."""

    gold: int = 0
    gold_matched: int = 0
    predicted: int = 0
    predicted_matched: int = 0

    def add(self, other: Counts) -> None:
        self.gold += other.gold
        self.gold_matched += other.gold_matched
        self.predicted += other.predicted
        self.predicted_matched += other.predicted_matched

    @property
    def precision(self) -> float | None:
        return self.predicted_matched / self.predicted if self.predicted else None

    @property
    def recall(self) -> float | None:
        return self.gold_matched / self.gold if self.gold else None

    @property
    def f1(self) -> float | None:
        p, r = self.precision, self.recall
        if p is None or r is None:
            return None
        return 0.0 if p + r == 0 else 2 * p * r / (p + r)

    def as_dict(self) -> dict[str, float | int | None]:
        return {
            "precision": _round(self.precision),
            "recall": _round(self.recall),
            "f1": _round(self.f1),
            "gold": self.gold,
            "predicted": self.predicted,
            "gold_matched": self.gold_matched,
            "predicted_matched": self.predicted_matched,
        }


@dataclass
class Rate:
    """Cases of a kind that got at least one prediction of a group (false alarms)."""

    cases: int = 0
    flagged: int = 0

    @property
    def rate(self) -> float | None:
        return self.flagged / self.cases if self.cases else None


@dataclass
class Scores:
    """Everything one system scored on one set of cases."""

    by_type: dict[str, Counts] = field(default_factory=dict)

    def group(self, types: Iterable[str]) -> Counts:
        total = Counts()
        for entity_type in types:
            if entity_type in self.by_type:
                total.add(self.by_type[entity_type])
        return total

    def by_category(self) -> dict[str, Counts]:
        out: dict[str, Counts] = {}
        for entity_type, counts in self.by_type.items():
            out.setdefault(category_of(entity_type), Counts()).add(counts)
        return out


def match_case(gold: Sequence[Span], predicted: Sequence[Span], types: frozenset[str]) -> Scores:
    """Counts per type for one case (exact-or-overlap, see the module docstring)."""
    gold = [s for s in gold if s[0] in types]
    predicted = [s for s in predicted if s[0] in types]
    scores = Scores()
    for entity_type in sorted({s[0] for s in gold} | {s[0] for s in predicted}):
        g = [s for s in gold if s[0] == entity_type]
        p = [s for s in predicted if s[0] == entity_type]
        scores.by_type[entity_type] = Counts(
            gold=len(g),
            gold_matched=sum(1 for s in g if any(_overlap(s, t) for t in p)),
            predicted=len(p),
            predicted_matched=sum(1 for s in p if any(_overlap(s, t) for t in g)),
        )
    return scores


def score(cases: Iterable[tuple[Sequence[Span], Sequence[Span]]], types: frozenset[str]) -> Scores:
    """Summed counts over ``(gold spans, predicted spans)`` pairs."""
    total = Scores()
    for gold, predicted in cases:
        for entity_type, counts in match_case(gold, predicted, types).by_type.items():
            total.by_type.setdefault(entity_type, Counts()).add(counts)
    return total


def false_alarm_rate(
    cases: Iterable[tuple[Sequence[Span], Sequence[Span]]], group: frozenset[str]
) -> Rate:
    """Share of cases with no gold span in ``group`` that get a prediction in ``group``."""
    rate = Rate()
    for gold, predicted in cases:
        if any(s[0] in group for s in gold):
            continue
        rate.cases += 1
        if any(s[0] in group for s in predicted):
            rate.flagged += 1
    return rate


def _overlap(a: Span, b: Span) -> bool:
    return a[1] < b[2] and b[1] < a[2]


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def counts_table(scores: Mapping[str, Counts]) -> dict[str, dict[str, float | int | None]]:
    return {key: counts.as_dict() for key, counts in sorted(scores.items())}
