"""Reading a detectors directory: every ``*.yaml`` file, validated, in sorted order.

Every mistake raises :class:`~policy_engine.errors.ConfigError` naming the file, the
line (from the YAML node marks), the recognizer id and the field at fault, e.g.
``detectors/secrets.yaml:14: recognizer 'api_key': field 'patterns[0].regex': invalid
regex: missing ) at position 5``. All errors of a file are reported together.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError
from pydantic_core import ErrorDetails

from policy_engine.detection.definitions import (
    KINDS,
    AnalysisSettings,
    DetectorFile,
    DetectorSet,
    LoadedRecognizer,
)
from policy_engine.errors import ConfigError
from policy_engine.yaml_source import format_loc, load_yaml, validation_problem, where_in


def load_detector_set(directory: Path) -> DetectorSet:
    """Load and validate every ``*.yaml`` file of ``directory``, in sorted order."""
    if not directory.is_dir():
        raise ConfigError(f"detectors directory {directory}: not a directory")
    paths = sorted(directory.glob("*.yaml"))
    if not paths:
        raise ConfigError(f"detectors directory {directory}: no *.yaml files")
    analysis: AnalysisSettings | None = None
    analysis_source: Path | None = None
    recognizers: list[LoadedRecognizer] = []
    first_seen: dict[str, Path] = {}
    for path in paths:
        loaded = load_detector_file(path)
        if loaded.analysis is not None:
            if analysis_source is not None:
                raise ConfigError(
                    f"{path}: 'analysis' is already set in {analysis_source}; keep it in one file"
                )
            analysis, analysis_source = loaded.analysis, path
        for definition in loaded.recognizers:
            if definition.id in first_seen:
                raise ConfigError(
                    f"{path}: recognizer {definition.id!r}: duplicate id "
                    f"(first defined in {first_seen[definition.id]})"
                )
            first_seen[definition.id] = path
            recognizers.append(LoadedRecognizer(path, definition))
    settings = analysis if analysis is not None else AnalysisSettings()
    if not recognizers and not settings.builtin_entities:
        raise ConfigError(f"detectors directory {directory}: defines no detectors")
    return DetectorSet(directory, settings, analysis_source, tuple(recognizers))


def load_detector_file(path: Path) -> DetectorFile:
    """Parse and validate one detector file.

    A file read before with the same text gives the same (frozen) result without parsing
    and validating it again: a service start reads the directory twice (what the detectors
    report, for the policy check, and the detectors themselves), and validation compiles
    every regex (about 0.1 s of each start)."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read ({type(exc).__name__}: {exc})") from None
    return _parse_detector_file(path, text)


@lru_cache(maxsize=32)
def _parse_detector_file(path: Path, text: str) -> DetectorFile:
    data, node = load_yaml(path, text, ConfigError)
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: the top level must be a mapping (version, analysis, ...)")
    try:
        return DetectorFile.model_validate(data)
    except ValidationError as exc:
        lines = [_describe_error(path, node, data, error) for error in exc.errors()]
        raise ConfigError("\n".join(lines)) from None


# --------------------------------------------------------------------------- errors


def _describe_error(
    path: Path, root: yaml.Node | None, data: dict[str, Any], error: ErrorDetails
) -> str:
    """``file:line: recognizer 'id': field 'x.y': what is wrong``."""
    loc = _strip_tags(tuple(error["loc"]))
    where = where_in(path, root, loc)
    subject = ""
    field_loc: tuple[str | int, ...] = loc
    if len(loc) >= 2 and loc[0] == "recognizers" and isinstance(loc[1], int):
        subject = f" recognizer {_recognizer_name(data, loc[1])}:"
        field_loc = loc[2:]
    problem = validation_problem(error)
    field = format_loc(field_loc)
    field_part = f" field {field!r}:" if field else ""
    return f"{where}:{subject}{field_part} {problem}"


def _strip_tags(loc: tuple[str | int, ...]) -> tuple[str | int, ...]:
    """Drop the union tag pydantic inserts after ``recognizers.<index>``."""
    if len(loc) >= 3 and loc[0] == "recognizers" and loc[2] in KINDS:
        return loc[:2] + loc[3:]
    return loc


def _recognizer_name(data: dict[str, Any], index: int) -> str:
    items = data.get("recognizers")
    if isinstance(items, list) and index < len(items) and isinstance(items[index], dict):
        rid = items[index].get("id")
        if isinstance(rid, str):
            return repr(rid)
    return f"#{index + 1}"
