"""Tables of an evaluation run: a console/Markdown table and a JSON document."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

Metrics = dict[str, Any]


def _fmt(value: float | None) -> str:
    return "—" if value is None else f"{value:.3f}"


def _row(label: str, per_system: list[Metrics | None], gold: int) -> list[str]:
    cells = [label, str(gold)]
    for metrics in per_system:
        if metrics is None:
            cells += ["n/a", "n/a", "n/a"]
        else:
            cells += [_fmt(metrics["precision"]), _fmt(metrics["recall"]), _fmt(metrics["f1"])]
    return cells


def markdown(result: dict[str, Any]) -> str:
    """The whole result as Markdown (also what ``make eval`` prints)."""
    systems = list(result["systems"])
    header = ["", "gold"] + [f"{name} {m}" for name in systems for m in ("P", "R", "F1")]
    lines = [f"# Detection evaluation ({result['matching']} span matching)", ""]
    lines.append("Data: " + ", ".join(f"{k} {v} cases" for k, v in result["data"].items()))
    for title, key in (("Per entity type", "by_type"), ("Per category", "by_category")):
        lines += ["", f"## {title}", "", _table_header(header)]
        labels = sorted({label for s in systems for label in result["systems"][s][key]})
        for label in labels:
            per = [result["systems"][s][key].get(label) for s in systems]
            gold = max((m["gold"] for m in per if m is not None), default=0)
            lines.append(_table_line(_row(label, per, gold)))
    lines += ["", "## Evasion set (recall on disguised entities)", ""]
    lines.append(_table_header(["", "gold", *[f"{s} R" for s in systems]]))
    labels = sorted({label for s in systems for label in result["systems"][s]["evasion"]})
    for label in labels:
        per = [result["systems"][s]["evasion"].get(label) for s in systems]
        gold = max((m["gold"] for m in per if m is not None), default=0)
        cells = [label, str(gold)] + ["n/a" if m is None else _fmt(m["recall"]) for m in per]
        lines.append(_table_line(cells))
    if "ner_windows" in result:
        lines += _windows_lines(result["ner_windows"])
    lines += ["", "## Targets", "", _table_header(["target", "threshold", *systems])]
    for target in result["targets"]:
        values = [target["values"].get(s) for s in systems]
        cells = [target["name"], f"{target['op']} {target['threshold']}"]
        for system, value in zip(systems, values, strict=True):
            met = target["met"].get(system)
            mark = "" if value is None else (" ✓" if met else " ✗")
            cells.append(_fmt(value) + mark)
        lines.append(_table_line(cells))
    return "\n".join(lines) + "\n"


def _windows_lines(windows: dict[str, Any]) -> list[str]:
    """The cost of reading only the NER windows (:mod:`.windows`)."""
    share = windows["characters_read_share"]
    lines = [
        "",
        "## NER on windows: what the skipped text holds",
        "",
        f"The model read {_fmt(share)} of the characters. Gold names and places outside "
        "every window, and how many of them NER on whole texts finds:",
        "",
        _table_header(["", "in skipped text", "found by whole-text NER"]),
    ]
    for kind, count in windows["gold_in_skipped_text"].items():
        found = windows["gold_in_skipped_text_found_by_whole_text_ner"][kind]
        lines.append(_table_line([kind, str(count), str(found)]))
    lines += ["", "The NER stage alone (before the merge with the pattern stage):", ""]
    lines.append(_table_header(["", "gold", "windows P", "windows R", "whole P", "whole R"]))
    for kind, row in windows["ner_stage"]["windows"].items():
        whole = windows["ner_stage"]["whole"][kind]
        cells = [kind, str(row["gold"]), _fmt(row["precision"]), _fmt(row["recall"])]
        lines.append(_table_line([*cells, _fmt(whole["precision"]), _fmt(whole["recall"])]))
    return lines


def _table_header(cells: list[str]) -> str:
    return _table_line(cells) + "\n" + _table_line(["---"] * len(cells))


def _table_line(cells: list[str]) -> str:
    return "| " + " | ".join(cells) + " |"


def write(result: dict[str, Any], out_dir: Path) -> tuple[Path, Path]:
    """Write ``eval.json`` and ``eval.md`` into ``out_dir``; return their paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    json_path, md_path = out_dir / "eval.json", out_dir / "eval.md"
    json_path.write_text(json.dumps(result, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    md_path.write_text(markdown(result), encoding="utf-8")
    return json_path, md_path
