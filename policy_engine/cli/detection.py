"""``policy-engine detectors list`` and ``policy-engine scan``: detection for security teams.

``scan --explain`` shows, for each finding, the detector, pattern, score, context boost and
validation that produced it. Matched values are never printed unless ``--show-values`` is
given AND standard output is a terminal (so values do not end up in files or pipes).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from policy_engine.cli.support import fail as _fail
from policy_engine.cli.support import read_decide_request
from policy_engine.errors import PolicyEngineError, RequestError


def _detectors_dir(directory: Path | None) -> Path:
    from policy_engine.settings import load_settings

    if directory is not None:
        return directory
    try:
        return load_settings().detectors_dir
    except PolicyEngineError as exc:
        _fail(str(exc))


@click.group("detectors")
def detectors() -> None:
    """Inspect the detectors directory (PE_DETECTORS_DIR)."""


@detectors.command("list")
@click.option(
    "--dir",
    "directory",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Detectors directory (default PE_DETECTORS_DIR).",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def list_detectors(directory: Path | None, as_json: bool) -> None:
    """Every detector with its entity types, category, kind and source file."""
    from policy_engine.detection import describe_detectors

    try:
        infos = describe_detectors(_detectors_dir(directory))
    except PolicyEngineError as exc:
        _fail(str(exc))
        return
    rows: list[dict[str, Any]] = [
        {
            "id": info.id,
            "entity_types": list(info.entity_types),
            "category": info.category,
            "kind": info.kind,
            "backends": list(info.backends),
            "source": str(info.source) if info.source is not None else None,
        }
        for info in infos
    ]
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    width = max(len(row["id"]) for row in rows)
    for row in rows:
        types = ",".join(row["entity_types"])
        click.echo(
            f"{row['id']:<{width}}  {types:<28} {row['category']:<11} {row['kind']:<11} "
            f"{row['source'] or '-'}"
        )


@click.command("scan")
@click.option("--text", "-t", default=None, help="The content to scan.")
@click.option(
    "--file",
    "-f",
    "file_",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="Read the content from a file.",
)
@click.option("--messages", is_flag=True, help="The input is a JSON list of chat messages.")
@click.option("--explain", is_flag=True, help="Show pattern, score, context boost, validation.")
@click.option(
    "--show-values",
    is_flag=True,
    help="Also print matched values (only when standard output is a terminal).",
)
@click.option(
    "--backend",
    type=click.Choice(["presidio", "patterns"]),
    default=None,
    help="Detection backend (default PE_DETECTION_BACKEND).",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of lines.")
def scan(
    text: str | None,
    file_: Path | None,
    messages: bool,
    explain: bool,
    show_values: bool,
    backend: str | None,
    as_json: bool,
) -> None:
    """Scan content (stdin when neither --text nor --file) and list what was found.

    Nothing is decided or audited; use `policy-engine decide` for a decision.
    """
    from policy_engine.detection import build_detector
    from policy_engine.intake import parse_request
    from policy_engine.logs import configure_logging
    from policy_engine.settings import load_settings

    configure_logging("console", "warning")  # stdout is the findings' alone
    if show_values and not sys.stdout.isatty():
        click.echo(
            "policy-engine: --show-values ignored: standard output is not a terminal "
            "(values are never written to files or pipes)",
            err=True,
        )
        show_values = False
    body = read_decide_request(text, file_, messages, None)
    try:
        units = parse_request(body).segments_to_scan()
        settings = load_settings()
        detector = build_detector(
            settings.detectors_dir,
            backend=backend or settings.detection_backend,
            compiled_cache_dir=settings.compiled_cache_dir,
        )
        explainer = getattr(detector, "explain", None)
        if explain and explainer is None:
            raise PolicyEngineError(f"backend {backend!r} cannot explain its findings")
        scan_text = explainer if explain and explainer else detector.detect
        rows = []
        for unit in units:
            spans = scan_text(unit.text)
            for span in spans:
                row: dict[str, Any] = {"message": unit.message, "part": unit.part}
                row.update(span.model_dump(exclude_none=True))
                if show_values:
                    row["value"] = unit.text[span.start : span.end]
                rows.append(row)
    except RequestError as exc:
        _fail(f"invalid input: {exc}")
        return
    except PolicyEngineError as exc:
        _fail(str(exc))
        return
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    if not rows:
        click.echo("no findings")
    for row in rows:
        click.echo(_line(row))


def _line(row: dict[str, Any]) -> str:
    where = ""
    if row["message"] is not None:
        where = (
            f"message {row['message']}"
            + (f" part {row['part']}" if row["part"] is not None else "")
            + ": "
        )
    text = (
        f"{where}{row['type']} ({row['category']}) [{row['start']}:{row['end']}] "
        f"score {row['score']:.2f} by {row['detector']}"
    )
    if "encoded" in row:
        text += f" in {row['encoded']} payload"
    if "original_score" in row:
        text += f"; pattern {row.get('pattern') or '-'}, base score {row['original_score']:.2f}"
        boost = row.get("context_boost", 0.0)
        if boost:
            text += f", context +{boost:.2f}"
            if row.get("context_word"):
                text += f" ('{row['context_word']}')"
        text += f", validation {row.get('validation', 'none')}"
    if "value" in row:
        text += f" = {row['value']!r}"
    return text
