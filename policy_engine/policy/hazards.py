"""Static checks for Rego constructs that crash or mislead the embedded engine (rego-cpp).

Each was seen to kill the process (SIGSEGV or abort) in regopy 1.5.2, so a policy set that
contains one is refused before it is compiled, and a crashed Rego test names the likely cause:

* ``with input as {...}``: replacing the whole input in a ``with`` clause crashes as soon as a
  built-in function runs under it; overriding keys (``with input.categories as [...]``) works.
* one function name defined with different numbers of arguments in different packages.
* a function named like a built-in function (``floor``, ``contains``, …).

The checks read the source text (rule heads start a line, as ``opa fmt`` writes them), so
they are heuristics: they look for the crash patterns, not for every possible one.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Mapping
from functools import cache

import regopy

_WHOLE_INPUT_WITH = re.compile(r"\bwith\s+input\s+as\b")
_FUNCTION_HEAD = re.compile(
    r"^(?:default\s+)?([A-Za-z_]\w*)\(([^)]*)\)\s*(?::=|=|if\b|\{|else\b)", re.MULTILINE
)
_COMMENT = re.compile(r"#[^\n]*")


def find_hazards(modules: Mapping[str, str]) -> dict[str, list[str]]:
    """Problems per module name (only modules with problems appear)."""
    problems: dict[str, list[str]] = defaultdict(list)
    arities: dict[str, dict[int, list[str]]] = defaultdict(lambda: defaultdict(list))
    for name, source in sorted(modules.items()):
        code = _COMMENT.sub("", source)
        if _WHOLE_INPUT_WITH.search(code):
            problems[name].append(
                "`with input as …` replaces the whole input, which crashes the embedded engine"
                " when a built-in function runs under it; override keys instead"
                " (`with input.categories as …`)"
            )
        for function, arity in _function_heads(code):
            if arities[function][arity][-1:] != [name]:
                arities[function][arity].append(name)
            if _is_builtin(function):
                problems[name].append(
                    f"function {function} shadows the built-in of that name, which the embedded"
                    " engine does not support; rename it"
                )
    for function, by_arity in sorted(arities.items()):
        if len(by_arity) > 1:
            where = "; ".join(
                f"{arity} in {', '.join(files)}" for arity, files in sorted(by_arity.items())
            )
            for files in by_arity.values():
                for file in files:
                    problems[file].append(
                        f"function {function} is defined with different numbers of arguments"
                        f" ({where}), which crashes the embedded engine; rename one"
                    )
    return {name: list(dict.fromkeys(found)) for name, found in problems.items()}


def _function_heads(code: str) -> list[tuple[str, int]]:
    return [(m.group(1), _arity(m.group(2))) for m in _FUNCTION_HEAD.finditer(code)]


def _arity(arguments: str) -> int:
    """Number of top-level comma-separated arguments (brackets and strings respected)."""
    if not arguments.strip():
        return 0
    depth, count, quote, escaped = 0, 1, "", False
    for char in arguments:
        if quote:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == quote:
                quote = ""
        elif char in '"`':
            quote = char
        elif char in "([{":
            depth += 1
        elif char in ")]}":
            depth -= 1
        elif char == "," and depth == 0:
            count += 1
    return count


@cache
def _is_builtin(name: str) -> bool:
    return bool(_builtin_checker().is_builtin(name))


@cache
def _builtin_checker() -> regopy.Interpreter:
    return regopy.Interpreter()
