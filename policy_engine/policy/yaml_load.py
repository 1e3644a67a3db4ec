"""Read YAML policy files and YAML test-case files, with errors naming file, line and field.

Errors are :class:`PolicyLoadError` lines like ``policies/hr.yaml:12: field
'rules[0].when.min_score': Input should be less than or equal to 1``; every error of a file is
reported together. Line numbers come from the YAML node marks, with the helpers the
detector loader uses too (:mod:`policy_engine.yaml_source`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from policy_engine.errors import PolicyLoadError
from policy_engine.policy.yaml_model import YamlCaseFile, YamlPolicy
from policy_engine.yaml_source import format_loc, load_yaml, validation_problem, where_in

#: YAML test-case files end with this (before the suffix); other YAML files are policies.
CASE_SUFFIXES = ("_test.yaml", "_test.yml")

Model = TypeVar("Model", bound=BaseModel)


def is_case_file(relative: str) -> bool:
    return relative.endswith(CASE_SUFFIXES)


def parse_policy(path: Path | str, text: str) -> YamlPolicy:
    return _parse(Path(path), text, YamlPolicy)


def parse_cases(path: Path | str, text: str) -> YamlCaseFile:
    return _parse(Path(path), text, YamlCaseFile)


def _parse(path: Path, text: str, model: type[Model]) -> Model:
    data, node = load_yaml(path, text, PolicyLoadError)
    if not isinstance(data, dict):
        raise PolicyLoadError(f"{path}: the top level must be a mapping")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        lines = [_describe(path, node, error) for error in exc.errors()]
        raise PolicyLoadError("\n".join(dict.fromkeys(lines))) from None


def _describe(path: Path, node: yaml.Node | None, error: Any) -> str:
    loc = tuple(part for part in error["loc"] if not _is_tag(part))
    where = where_in(path, node, loc)
    problem = validation_problem(error)
    field = format_loc(loc)
    return f"{where}: field {field!r}: {problem}" if field else f"{where}: {problem}"


def _is_tag(part: str | int) -> bool:
    """pydantic inserts union member names (``list[...]``, ``str``) into locations."""
    return isinstance(part, str) and (
        "[" in part or part in {"str", "bool", "int", "float", "none"}
    )
