"""``policy-engine lint``: errors and warnings about a policy directory.

Errors (exit status 1): the set does not load or compile (with file, line and field for YAML),
a construct that crashes the embedded engine, an ``exclude_endpoints`` attribute that no
catalog endpoint has. Warnings: an entity type no loaded detector reports (in a YAML rule, or a
string literal of a Rego module that looks like one), a YAML rule that can
never fire (an entity type outside the categories it also asks for, endpoint values that match
nothing in the catalog, a segment floor of ``any``), a segment that the policies can decide but
that leaves no catalog endpoint, a policy without tests.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any, Literal

from policy_engine.catalog import Catalog
from policy_engine.errors import PolicyEngineError
from policy_engine.models import RequestContext, Segment
from policy_engine.policy.embedded import EmbeddedEvaluator
from policy_engine.policy.entity_uses import did_you_mean, rego_uses
from policy_engine.policy.hazards import find_hazards
from policy_engine.policy.loader import PolicySet, load_policy_set
from policy_engine.policy.yaml_load import is_case_file, parse_policy
from policy_engine.policy.yaml_model import YamlPolicy, YamlRule


@dataclass(frozen=True)
class Problem:
    level: Literal["error", "warning"]
    where: str
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.level}: {self.message}"


def lint_directory(
    directory: Path, catalog: Catalog, entity_categories: Mapping[str, set[str]]
) -> list[Problem]:
    """Every problem found; ``entity_categories`` maps each known entity type to the
    categories the loaded detectors report it with."""
    try:
        policy_set = load_policy_set(directory, {"catalog": catalog.policy_data()})
    except PolicyEngineError as exc:
        return [Problem("error", str(directory), line) for line in str(exc).splitlines()]
    problems: list[Problem] = []
    for name, found in sorted(find_hazards(policy_set.modules).items()):
        problems += [Problem("error", str(directory / name), p) for p in found]
    problems += _lint_rego_entities(policy_set, entity_categories)
    for relative in sorted(policy_set.yaml_policies):
        path = directory / relative
        policy = parse_policy(path, path.read_text(encoding="utf-8"))
        problems += _lint_yaml(str(path), policy, catalog, entity_categories)
    problems += _untested(policy_set)
    if not any(p.level == "error" for p in problems):
        problems += _unreachable_segments(policy_set, catalog)
    return problems


def _lint_rego_entities(
    policy_set: PolicySet, entity_categories: Mapping[str, set[str]]
) -> list[Problem]:
    return [
        Problem(
            "warning",
            str(policy_set.directory / name),
            f'"{use.entity_type}" looks like an entity type, but no loaded detector reports it'
            + did_you_mean(use.entity_type, entity_categories),
        )
        for name in sorted(policy_set.modules)
        if name not in policy_set.yaml_policies
        for use in rego_uses(str(policy_set.directory / name), policy_set.modules[name])
        if use.entity_type not in entity_categories
    ]


def _lint_yaml(
    where: str, policy: YamlPolicy, catalog: Catalog, entity_categories: Mapping[str, set[str]]
) -> list[Problem]:
    problems = []
    endpoints = catalog.policy_data()["endpoints"]
    for rule in policy.rules:
        at = f"{where}: rule {rule.id}"
        problems += _lint_entities(at, rule, entity_categories)
        if rule.segment == Segment.ANY:
            problems.append(
                Problem("warning", at, "segment any never tightens a decision (the floor is any)")
            )
        if rule.exclude_endpoints is not None:
            problems += _lint_endpoints(at, rule, endpoints)
    return problems


def _lint_entities(
    at: str, rule: YamlRule, entity_categories: Mapping[str, set[str]]
) -> list[Problem]:
    problems = []
    wanted = set(rule.when.categories or [])
    for entity_type in rule.when.entity_types or []:
        known = entity_categories.get(entity_type)
        if known is None:
            problems.append(
                Problem(
                    "warning",
                    at,
                    f"entity type {entity_type} is not reported by any loaded detector"
                    + did_you_mean(entity_type, entity_categories),
                )
            )
        elif wanted and not known & wanted:
            problems.append(
                Problem(
                    "warning",
                    at,
                    f"can never fire for {entity_type}: it is reported as"
                    f" {', '.join(sorted(known))}, not {', '.join(sorted(wanted))}",
                )
            )
    return problems


def _lint_endpoints(at: str, rule: YamlRule, endpoints: list[dict[str, Any]]) -> list[Problem]:
    assert rule.exclude_endpoints is not None
    problems = []
    for path, values in rule.exclude_endpoints.attributes():
        present = [_attribute(e, path) for e in endpoints]
        name = ".".join(path)
        if all(value is _ABSENT for value in present):
            problems.append(
                Problem("error", at, f"endpoint attribute {name} does not exist in the catalog")
            )
            continue
        actual = [None if v is _ABSENT else v for v in present]
        if not any(_same(v, w) for v in actual for w in values):
            problems.append(
                Problem(
                    "warning",
                    at,
                    f"can never exclude anything: no catalog endpoint has {name} in {values}",
                )
            )
    return problems


_ABSENT = object()


def _attribute(endpoint: Mapping[str, Any], path: tuple[str, ...]) -> Any:
    value: Any = endpoint
    for key in path:
        if not isinstance(value, Mapping) or key not in value:
            return _ABSENT
        value = value[key]
    return value


def _same(a: Any, b: Any) -> bool:
    """Rego equality: 1 == 1.0, but true != 1."""
    return type(a) is type(b) and a == b if isinstance(a, bool) or isinstance(b, bool) else a == b


def _untested(policy_set: PolicySet) -> list[Problem]:
    """Policies whose directory holds no Rego test and no YAML case file."""
    tested_dirs = {
        PurePosixPath(name).parent for name in [*policy_set.test_modules, *policy_set.yaml_cases]
    }
    return [
        Problem("warning", str(policy_set.path_of(name)), "no tests beside this policy")
        for name in sorted(policy_set.modules)
        if not is_case_file(name) and PurePosixPath(name).parent not in tested_dirs
    ]


def _unreachable_segments(policy_set: PolicySet, catalog: Catalog) -> list[Problem]:
    """Segments whose admitted endpoints are all excluded when nothing is found."""
    try:
        evaluator = EmbeddedEvaluator(policy_set)
        result = evaluator.evaluate(
            {
                "context": RequestContext().model_dump(exclude_none=True),
                "findings": [],
                "entity_types": [],
                "categories": [],
                "content": {"characters": 0, "estimated_tokens": 0},
            }
        )
    except PolicyEngineError as exc:
        return [Problem("error", str(policy_set.directory), str(exc))]
    excluded_by: dict[str, list[str]] = {}
    for exclusion in result.excluded:
        excluded_by.setdefault(exclusion.endpoint, []).append(exclusion.rule)
    problems = []
    for segment in Segment:
        admitted = [e.id for e in catalog.endpoints if segment.admits(e.deployment)]
        if not admitted:
            problems.append(
                Problem(
                    "warning",
                    str(policy_set.directory),
                    f"segment {segment.value} is unreachable: the catalog has no endpoint it"
                    " admits",
                )
            )
            continue
        if any(e not in excluded_by for e in admitted):
            continue
        rules = sorted({rule for e in admitted for rule in excluded_by[e]})
        files = sorted({f for f in (_file_of(policy_set, rule) for rule in rules) if f})
        which = "; ".join(f"{e} by {', '.join(sorted(set(excluded_by[e])))}" for e in admitted)
        problems.append(
            Problem(
                "warning",
                files[0] if len(files) == 1 else str(policy_set.directory),
                f"segment {segment.value} is unreachable in practice: every catalog endpoint"
                f" it admits is excluded even when nothing is found, by rule"
                f"{'s' if len(rules) > 1 else ''} {', '.join(rules)} ({which})",
            )
        )
    return problems


def _file_of(policy_set: PolicySet, rule: str) -> str | None:
    """The module (or YAML policy) that names ``rule`` in a string literal."""
    for name, source in sorted(policy_set.modules.items()):
        if f'"{rule}"' in source:
            return str(policy_set.path_of(name))
    return None
