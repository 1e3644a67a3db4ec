"""Which parts of ``input`` a set of Rego modules can read, and an input cut down to them.

Used where identical decisions can share one evaluation: replay (:mod:`policy_engine.audit.
replay`) and the result cache (:mod:`.cache`). Two inputs with the same :func:`project` under
the modules' :func:`input_members_read` get the same decision, since the policy cannot see
where they differ. The analysis is textual and conservative: anything it cannot bound
(bare ``input``, ``input[k]``) counts as reading all of ``input``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

_INPUT_MENTION = re.compile(r"\binput\b((?:\.[A-Za-z_][A-Za-z0-9_]*)*)")

#: What a policy may read of its input: top-level member → None (all of it) or the
#: nested paths it reads, e.g. ``{"findings": None, "context": {("tenant",)}}``.
InputPaths = dict[str, set[tuple[str, ...]] | None]


def input_members_read(modules: Mapping[str, str]) -> InputPaths | None:
    """The parts of ``input`` the modules can read; None if they may read all of it.

    Conservative: a mention of bare ``input`` (``input[k]``, ``walk(input)``, ``import
    input``) reads everything; ``input.a.b`` reads ``a.b`` and all below it, and a chain
    followed by ``[`` reads everything below the chain.
    """
    paths: InputPaths = {}
    for module in modules.values():
        source = _without_comments(module)
        for match in _INPUT_MENTION.finditer(source):
            chain = tuple(part for part in match.group(1).split(".") if part)
            if not chain:
                return None
            top, rest = chain[0], chain[1:]
            if not rest or paths.get(top, set()) is None:
                paths[top] = None
            else:
                known = paths.setdefault(top, set())
                assert known is not None
                known.add(rest)
    return paths


def _without_comments(source: str) -> str:
    """Rego source with ``#`` comments blanked (strings are kept)."""
    lines = []
    for line in source.splitlines():
        quote = ""
        escaped = False
        cut = len(line)
        for index, char in enumerate(line):
            if escaped:
                escaped = False
            elif quote == '"' and char == "\\":
                escaped = True
            elif quote:
                quote = "" if char == quote else quote
            elif char in '"`':
                quote = char
            elif char == "#":
                cut = index
                break
        lines.append(line[:cut])
    return "\n".join(lines)


def project(policy_input: Mapping[str, Any], paths: InputPaths) -> dict[str, Any]:
    """The part of an input that policies reading only ``paths`` can see."""
    seen: dict[str, Any] = {}
    for top, nested in paths.items():
        if top not in policy_input:
            continue
        value = policy_input[top]
        if nested is None or not isinstance(value, Mapping):
            seen[top] = value
            continue
        seen[top] = {".".join(path): _dig(value, path) for path in sorted(nested)}
    return seen


def _dig(value: Any, path: tuple[str, ...]) -> Any:
    for part in path:
        if not isinstance(value, Mapping) or part not in value:
            return "\x00absent"
        value = value[part]
    return value


def projection_key(policy_input: Mapping[str, Any], paths: InputPaths | None) -> str:
    """Canonical JSON of what policies reading ``paths`` (all of ``input`` when None) see
    of ``policy_input``: equal keys, equal decisions. Raises TypeError or ValueError when
    that part is not JSON."""
    seen = policy_input if paths is None else project(policy_input, paths)
    return json.dumps(
        seen, sort_keys=True, ensure_ascii=False, allow_nan=False, separators=(",", ":")
    )
