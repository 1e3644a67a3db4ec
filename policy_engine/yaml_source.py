"""YAML files read with their node tree, so that errors can name the line at fault.

Shared by the detector loader (:mod:`policy_engine.detection.loader`) and the YAML policy
loader (:mod:`policy_engine.policy.yaml_load`): both report ``file:line: field 'x.y': …``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

from policy_engine.errors import PolicyEngineError


def load_yaml(
    path: Path, text: str, error: type[PolicyEngineError]
) -> tuple[Any, yaml.Node | None]:
    """The document in ``text`` and its node tree (``None`` for an empty file).

    Invalid YAML and a key given twice in one mapping (PyYAML would silently keep the last)
    raise ``error`` naming the file and line.
    """
    try:
        loader = yaml.SafeLoader(text)
        try:
            node = loader.get_single_node()
            data = loader.construct_document(node) if node is not None else None
        finally:
            loader.dispose()
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f":{mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise error(f"{path}{where}: invalid YAML: {problem}") from None
    if node is not None:
        duplicate = first_duplicate_key(node)
        if duplicate is not None:
            key, line = duplicate
            raise error(f"{path}:{line}: key {key!r} appears twice")
    return data, node


def format_loc(loc: Sequence[str | int]) -> str:
    """``('rules', 0, 'when')`` → ``rules[0].when``."""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def line_of(node: yaml.Node | None, loc: Sequence[str | int]) -> int | None:
    """1-based line of the deepest YAML node on the path ``loc``."""
    if node is None:
        return None
    line = node.start_mark.line + 1
    for part in loc:
        child: yaml.Node | None = None
        if isinstance(node, yaml.MappingNode) and isinstance(part, str):
            for key, value in node.value:
                if isinstance(key, yaml.ScalarNode) and key.value == part:
                    child = value
                    line = key.start_mark.line + 1
                    break
        elif (
            isinstance(node, yaml.SequenceNode)
            and isinstance(part, int)
            and 0 <= part < len(node.value)
        ):
            child = node.value[part]
        if child is None:
            break
        node = child
        line = node.start_mark.line + 1
    return line


def where_in(path: Path, node: yaml.Node | None, loc: Sequence[str | int]) -> str:
    """``file:line`` of the field at ``loc`` (just ``file`` when no line is known)."""
    line = line_of(node, loc)
    return f"{path}:{line}" if line is not None else str(path)


def validation_problem(error: Mapping[str, Any]) -> str:
    """What one pydantic error says is wrong, in the words of a YAML file's author."""
    kind = error["type"]
    if kind == "missing":
        return "missing required field"
    if kind == "extra_forbidden":
        return "unknown field"
    return str(error["msg"]).removeprefix("Value error, ")


def first_duplicate_key(node: yaml.Node) -> tuple[str, int] | None:
    """The first key that appears twice in one mapping, with its 1-based line."""
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key, value in node.value:
            if isinstance(key, yaml.ScalarNode):
                if key.value in seen:
                    return key.value, key.start_mark.line + 1
                seen.add(key.value)
            found = first_duplicate_key(value)
            if found is not None:
                return found
    elif isinstance(node, yaml.SequenceNode):
        for item in node.value:
            found = first_duplicate_key(item)
            if found is not None:
                return found
    return None
