"""What reading only the NER windows costs: names and places in the text the model skips.

The NER stage runs the model only on windows around capitalised words
(:mod:`policy_engine.detection.ner_windows`); a name outside every window is missed. On the
evaluated cases this compares the NER stage on windows with the same stage reading every
text whole (same model, same rules):

* the share of characters the model reads;
* the gold PERSON and LOCATION spans that lie outside every window, and how many of them
  the whole-text stage finds (the names the windows lose);
* recall and precision of each stage alone on PERSON and LOCATION (before the merge with
  the pattern stage, so its figures are not those of the whole detector).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

from policy_engine.detection.definitions import DetectorSet
from policy_engine.detection.ner_stage import NerStage
from policy_engine.detection.normalize import normalize
from policy_engine.evaluation.cases import Case
from policy_engine.evaluation.scoring import Span

TYPES = ("PERSON", "LOCATION")


def skipped_text_report(
    cases: Sequence[Case], detector_set: DetectorSet, windowed: NerStage
) -> dict[str, Any]:
    """The figures above for ``cases`` (evasion cases left out), ``windowed`` being the
    NER stage of ``detector_set`` that reads windows."""
    whole_set = dataclasses.replace(
        detector_set, analysis=detector_set.analysis.model_copy(update={"ner_windows": False})
    )
    whole = NerStage(whole_set, windowed.nlp_engine)
    read = total = 0
    skipped = {t: 0 for t in TYPES}
    skipped_found = {t: 0 for t in TYPES}
    counts = {name: {t: [0, 0, 0, 0] for t in TYPES} for name in ("windows", "whole")}
    for case in cases:
        if case.evasion:
            continue
        view = normalize(case.text)
        ranges = [view.original_span(low, high) for low, high in windowed.read_ranges(view.text)]
        read += sum(high - low for low, high in ranges)
        total += len(case.text)
        gold = [g for g in case.gold if g[0] in TYPES]
        found = {
            "windows": _spans(windowed.detect(case.text)),
            "whole": _spans(whole.detect(case.text)),
        }
        for span in gold:
            if not any(_overlap(span, (span[0], low, high)) for low, high in ranges):
                skipped[span[0]] += 1
                skipped_found[span[0]] += _matched(span, found["whole"])
        for name, predicted in found.items():
            for t in TYPES:
                row = counts[name][t]
                row[0] += sum(1 for g in gold if g[0] == t)
                row[1] += sum(1 for g in gold if g[0] == t and _matched(g, predicted))
                mine = [p for p in predicted if p[0] == t]
                row[2] += len(mine)
                row[3] += sum(1 for p in mine if _matched(p, gold))
    return {
        "characters_read_share": round(read / total, 4) if total else None,
        "gold_in_skipped_text": skipped,
        "gold_in_skipped_text_found_by_whole_text_ner": skipped_found,
        "ner_stage": {
            name: {
                t: {
                    "gold": row[0],
                    "recall": _ratio(row[1], row[0]),
                    "predicted": row[2],
                    "precision": _ratio(row[3], row[2]),
                }
                for t, row in per_type.items()
            }
            for name, per_type in counts.items()
        },
    }


def _spans(detected: Sequence[Any]) -> list[Span]:
    return [(s.type, s.start, s.end) for s in detected if s.type in TYPES]


def _overlap(a: Span, b: Span) -> bool:
    return a[1] < b[2] and b[1] < a[2]


def _matched(span: Span, others: Sequence[Span]) -> int:
    return int(any(o[0] == span[0] and _overlap(span, o) for o in others))


def _ratio(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None
