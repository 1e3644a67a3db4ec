"""``python -m policy_engine.evaluation``: label every case with each system, score, report."""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from policy_engine.errors import PolicyEngineError
from policy_engine.evaluation import report
from policy_engine.evaluation.cases import Case, read_jsonl, read_project_cases
from policy_engine.evaluation.scoring import (
    Scores,
    Span,
    category_of,
    counts_table,
    false_alarm_rate,
    score,
)
from policy_engine.evaluation.systems import OurSystem, PresidioDefault, System
from policy_engine.settings import PROJECT_ROOT

STRUCTURED_PII = frozenset(
    {"EMAIL_ADDRESS", "PHONE_NUMBER", "CREDIT_CARD", "IBAN_CODE", "US_SSN", "IP_ADDRESS"}
)
#: Case categories that are prose (the source-code false-alarm rate is measured on them).
PROSE_CATEGORIES = frozenset({"pii", "marking", "benign"})


def load_cases(args: argparse.Namespace) -> list[Case]:
    cases: list[Case] = []
    if args.generate > 0:
        from policy_engine.evaluation.generated import generate

        cases += generate(args.generate, args.seed)
    cases += read_project_cases(args.cases)
    if args.evaldata is not None and args.evaldata.is_dir():
        for path in sorted(args.evaldata.glob("*.jsonl")):
            cases += read_jsonl(path)
    if args.limit:
        by_origin: Counter[str] = Counter()
        limited = []
        for case in cases:
            by_origin[case.origin] += 1
            if by_origin[case.origin] <= args.limit:
                limited.append(case)
        cases = limited
    return cases


def evaluate(cases: Sequence[Case], systems: Sequence[System]) -> dict[str, Any]:
    """Score every system on ``cases``: tables, false-alarm rates and targets."""
    gold_types = {s[0] for case in cases for s in case.gold}
    evaluated = frozenset(t for t in gold_types if any(t in system.supported for system in systems))
    result: dict[str, Any] = {
        "matching": "exact-or-overlap",
        "data": dict(sorted(Counter(case.origin for case in cases).items())),
        "evaluated_types": sorted(evaluated),
        "systems": {},
    }
    # Category rows and targets count the types the project reports (the first system's),
    # for every system alike; types only another system reports appear per type only.
    targeted = evaluated & systems[0].supported
    result["targeted_types"] = sorted(targeted)
    targets: dict[str, dict[str, Any]] = {}
    for system in systems:
        types = evaluated & system.supported
        pairs = [(case, case.gold, case.scored(system.predict(case.text))) for case in cases]
        plain = [(g, p) for case, g, p in pairs if not case.evasion]
        disguised = [(g, p) for case, g, p in pairs if case.evasion]
        scores = score(plain, types)
        categories = Scores(
            {t: c for t, c in scores.by_type.items() if t in targeted}
        ).by_category()
        hard_negatives = [
            (g, p) for case, g, p in pairs if case.category == "secret" and not case.evasion
        ]
        prose = [
            (g, p) for case, g, p in pairs if case.category in PROSE_CATEGORIES and not case.evasion
        ]
        rates = {
            "secret_false_alarms_on_negatives": false_alarm_rate(
                hard_negatives, frozenset({"SECRET"}) & types
            ),
            "source_code_false_alarms_on_prose": false_alarm_rate(
                prose, frozenset({"SOURCE_CODE"}) & types
            ),
        }
        groups = {"structured_pii": scores.group(STRUCTURED_PII & types)}
        result["systems"][system.name] = {
            "by_type": counts_table(scores.by_type),
            "by_category": counts_table(categories),
            "groups": counts_table(groups),
            "rates": {
                k: {"cases": r.cases, "flagged": r.flagged, "rate": r.rate}
                for k, r in rates.items()
            },
            "evasion": counts_table(
                {t: c for t, c in score(disguised, types).by_type.items() if c.gold}
            ),
        }
        measured = {
            "structured PII F1": groups["structured_pii"].f1,
            "PERSON F1": scores.by_type["PERSON"].f1 if "PERSON" in scores.by_type else None,
            "secrets recall": scores.by_type["SECRET"].recall
            if "SECRET" in scores.by_type
            else None,
            "secrets false alarms on negatives": rates["secret_false_alarms_on_negatives"].rate
            if "SECRET" in types
            else None,
            "markings F1": scores.by_type["CLASSIFICATION_MARKING"].f1
            if "CLASSIFICATION_MARKING" in scores.by_type
            else None,
            "source code recall": scores.by_type["SOURCE_CODE"].recall
            if "SOURCE_CODE" in scores.by_type
            else None,
            "source code false alarms on prose": rates["source_code_false_alarms_on_prose"].rate
            if "SOURCE_CODE" in types
            else None,
        }
        for name, value in measured.items():
            op, threshold = TARGETS[name]
            entry = targets.setdefault(
                name, {"name": name, "op": op, "threshold": threshold, "values": {}, "met": {}}
            )
            entry["values"][system.name] = None if value is None else round(value, 4)
            entry["met"][system.name] = None if value is None else _meets(value, op, threshold)
    result["targets"] = list(targets.values())
    return result


TARGETS: dict[str, tuple[str, float]] = {
    "structured PII F1": (">=", 0.95),
    "PERSON F1": (">=", 0.85),
    "secrets recall": (">=", 0.95),
    "secrets false alarms on negatives": ("<=", 0.02),
    "markings F1": (">=", 0.95),
    "source code recall": (">=", 0.90),
    "source code false alarms on prose": ("<=", 0.02),
}


def _meets(value: float, op: str, threshold: float) -> bool:
    return value >= threshold if op == ">=" else value <= threshold


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m policy_engine.evaluation")
    parser.add_argument("--detectors", type=Path, default=PROJECT_ROOT / "detectors")
    parser.add_argument("--backend", choices=("presidio", "patterns"), default="presidio")
    parser.add_argument("--cases", type=Path, default=PROJECT_ROOT / "eval" / "cases")
    parser.add_argument(
        "--evaldata",
        type=Path,
        default=PROJECT_ROOT.parent / "shared" / "evaldata",
        help="development set read in place when the folder exists",
    )
    parser.add_argument("--generate", type=int, default=300, help="generated sentences (0: none)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--limit", type=int, default=0, help="at most N cases per data source")
    parser.add_argument("--no-baseline", action="store_true", help="skip Presidio's defaults")
    parser.add_argument("--out", type=Path, default=Path("var/eval"))
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        cases = load_cases(args)
        systems: list[System] = [OurSystem(args.detectors, args.backend)]
        if not args.no_baseline:
            systems.append(PresidioDefault())
    except PolicyEngineError as exc:
        print(f"eval: error: {exc}", file=sys.stderr)
        return 2
    result = evaluate(cases, systems)
    windows = systems[0].ner_windows_report(cases) if isinstance(systems[0], OurSystem) else None
    if windows is not None:
        result["ner_windows"] = windows
    json_path, md_path = report.write(result, args.out)
    print(report.markdown(result))
    print(f"written: {json_path} {md_path}")
    return 0


__all__ = ["Span", "category_of", "evaluate", "main"]
