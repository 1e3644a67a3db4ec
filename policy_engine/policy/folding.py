"""Constant folding: compute catalog-only rule modules once, at load time.

The embedded engine evaluates every rule module on each decision, at a few microseconds per
step. A module whose contributions depend only on ``data.catalog`` (the provenance checks)
gives the same answer for every request, so the evaluator computes its ``isolation``,
``exclusions`` and ``obligations`` once and runs a module holding those values instead.

A module is folded only when its text shows that this is safe: a package directly under
``segmentation.rules``; no reference to ``input``, to data other than ``data.catalog``, to
another package, or to a non-deterministic built-in; no ``with`` or ``import``; and no other
module mentions it. The evaluator also checks that folding leaves its self-check decisions
unchanged. Rego tests always run on the original modules.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from typing import Any

CONTRIBUTIONS = ("isolation", "exclusions", "obligations")

_PACKAGE = re.compile(r"^package\s+segmentation\.rules\.([A-Za-z_]\w*)\s*$", re.MULTILINE)
_CORE = re.compile(r"^package\s+segmentation\s*$", re.MULTILINE)
_STRING = re.compile(r'"(?:[^"\\\n]|\\.)*"|`[^`]*`')
_COMMENT = re.compile(r"#[^\n]*")
_UNSAFE = re.compile(
    r"\binput\b|\bwith\b|\bimport\b|\bdata\b(?!\.catalog\b)"
    r"|\b(?:time|rand|uuid|http|net|opa|crypto\.x509|io\.jwt)\.|\btrace\("
)

#: Evaluates a query such as ``data.segmentation.rules.x`` and returns its value or ``None``.
Evaluate = Callable[[str], Any]


def foldable_packages(modules: Mapping[str, str]) -> dict[str, str]:
    """Module name → package (last segment) of each module that can be folded."""
    bodies = {name: _code(_after_package(source)) for name, source in modules.items()}
    # Only the core (package segmentation) may refer to rule packages: through the generic
    # `data.segmentation.rules[name]`, or by name (which blocks folding of that package).
    # Any other module that refers to the segmentation namespace at all blocks folding.
    if any(
        re.search(r"\bsegmentation\b", body)
        for name, body in bodies.items()
        if not _CORE.search(modules[name])
    ):
        return {}
    found = {}
    for name, source in modules.items():
        match = _PACKAGE.search(source)
        if match is None or _UNSAFE.search(bodies[name]):
            continue
        package = match.group(1)
        named = re.compile(rf"\brules\.{package}\b")
        if not any(named.search(body) for other, body in bodies.items() if other != name):
            found[name] = package
    return found


def fold(modules: Mapping[str, str], evaluate: Evaluate) -> dict[str, str]:
    """``modules`` with each foldable module replaced by its computed contributions.

    ``evaluate`` runs queries against the original modules; a module whose package does
    not evaluate to an object is left as it is.
    """
    folded = dict(modules)
    for name, package in foldable_packages(modules).items():
        document = evaluate(f"data.segmentation.rules.{package}")
        if not isinstance(document, dict):
            continue
        folded[name] = render(name, package, document)
    return folded


def render(name: str, package: str, document: Mapping[str, Any]) -> str:
    """Rego source holding a module's contributions as constants (JSON is Rego)."""
    lines = [
        f"# Folded at load time from {name}: its contributions depend only on data.catalog.",
        f"package segmentation.rules.{package}",
        "",
    ]
    for kind in CONTRIBUTIONS:
        if kind in document:
            lines.append(f"{kind} := {json.dumps(document[kind], ensure_ascii=False)}")
            lines.append("")
    return "\n".join(lines)


def _after_package(source: str) -> str:
    """The source after its package line (all of it when there is none)."""
    match = re.search(r"^package\s+\S+[^\n]*$", source, re.MULTILINE)
    return source[match.end() :] if match else source


def _code(source: str) -> str:
    """Source without string literals and comments (strings first: they may hold '#')."""
    return _COMMENT.sub("", _STRING.sub('""', source))
