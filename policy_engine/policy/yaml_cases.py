"""YAML test cases (``*_test.yaml``): findings and context in, the expected decision out.

Each case is decided by the whole policy set on the catalog in the set's data, exactly as the
engine decides (``data.segmentation.decision``, then the engine's endpoint ranking). Cases run
in a child process (:mod:`policy_engine.policy.yaml_cases_child`), like the Rego tests: the
embedded engine can crash on some constructs, and a crash must be a failed case.

A failed case names the file, the case, the rules that fired, and every difference between
what was expected and what came out.
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from policy_engine.catalog import Catalog
from policy_engine.decision import build_policy_input, rank_endpoints
from policy_engine.models import Finding, PolicyResult
from policy_engine.policy.loader import PolicySet
from policy_engine.policy.rego_tests import DEFAULT_TIMEOUT, _run_child
from policy_engine.policy.yaml_model import YamlCase


@dataclass(frozen=True)
class CaseResult:
    """The outcome of one YAML case; ``differences`` is empty when it passed."""

    file: str
    name: str
    passed: bool
    differences: tuple[str, ...] = ()
    fired: tuple[str, ...] = ()

    def describe(self) -> str:
        fired = ", ".join(self.fired) or "none"
        return f"{'; '.join(self.differences)} (rules fired: {fired})"


def case_input(case: YamlCase) -> dict[str, Any]:
    """The policy input document of a case."""
    findings = [
        Finding(
            type=f.type,
            category=f.category,
            count=f.count,
            max_score=f.max_score,
            spans=[],
            detector=f.detector,
        )
        for f in case.findings
    ]
    return build_policy_input(case.context, findings, case.characters)


def check_case(file: str, case: YamlCase, result: PolicyResult, catalog: Catalog) -> CaseResult:
    """Compare one decision with the case's expectations."""
    allowed, excluded = rank_endpoints(
        catalog, result.segment, result, case.context, case.characters
    )
    fired = tuple(dict.fromkeys(r.rule for r in result.reasons))
    fired_all = set(fired) | {x.rule for x in result.excluded}
    if result.obligations:
        fired_all.add("(obligations)")
    expect = case.expect
    diffs: list[str] = []
    if expect.segment is not None and expect.segment != result.segment:
        diffs.append(f"segment: expected {expect.segment.value}, got {result.segment.value}")
    if expect.allowed is not None and sorted(expect.allowed) != sorted(allowed):
        diffs.append(_set_diff("allowed endpoints", set(expect.allowed), set(allowed)))
    excluded_ids = {e.id for e in excluded}
    missing = [e for e in expect.excluded or [] if e not in excluded_ids]
    if missing:
        diffs.append(f"expected excluded but allowed: {', '.join(missing)}")
    not_fired = [r for r in expect.rules or [] if r not in fired_all]
    if not_fired:
        diffs.append(f"expected rules that did not fire: {', '.join(not_fired)}")
    unwanted = [r for r in expect.not_rules or [] if r in fired_all]
    if unwanted:
        diffs.append(f"rules that should not fire but did: {', '.join(unwanted)}")
    if expect.obligations is not None and sorted(expect.obligations) != sorted(result.obligations):
        diffs.append(_set_diff("obligations", set(expect.obligations), set(result.obligations)))
    rules = tuple(dict.fromkeys([*fired, *(x.rule for x in result.excluded)]))
    return CaseResult(file, case.name, not diffs, tuple(diffs), rules)


def _set_diff(what: str, expected: set[str], got: set[str]) -> str:
    parts = []
    if expected - got:
        parts.append(f"missing {sorted(expected - got)}")
    if got - expected:
        parts.append(f"unexpected {sorted(got - expected)}")
    return f"{what}: {', '.join(parts)}"


def run_yaml_cases(policy_set: PolicySet, *, timeout: float = DEFAULT_TIMEOUT) -> list[CaseResult]:
    """Run every YAML case of the set in one child process."""
    if not policy_set.yaml_cases:
        return []
    with tempfile.TemporaryDirectory(prefix="yaml-cases-") as scratch:
        job = Path(scratch) / "job.json"
        out = Path(scratch) / "results.jsonl"
        job.write_text(
            json.dumps(
                {
                    "directory": str(policy_set.directory),
                    "modules": policy_set.modules,
                    "data": policy_set.data,
                    "revision": policy_set.revision,
                    "cases": policy_set.yaml_cases,
                }
            ),
            encoding="utf-8",
        )
        out.touch()
        failure = _run_child(job, out, timeout, module="policy_engine.policy.yaml_cases_child")
        results = [
            CaseResult(
                file=r["file"],
                name=r["name"],
                passed=r["passed"],
                differences=tuple(r["differences"]),
                fired=tuple(r["fired"]),
            )
            for r in map(json.loads, out.read_text(encoding="utf-8").splitlines())
        ]
    if failure is not None:
        results.append(
            CaseResult("(child)", "YAML test cases", False, (f"the case runner {failure}",))
        )
    return results
