"""Replay: what would a candidate policy set have decided on past decisions?

Each record holds what its policy saw: the context (with ``user`` replaced by its
keyed digest), the findings (types, categories, counts, scores: never values) and the
content's length. :func:`policy_input_of` rebuilds that input exactly as the engine
built it; :func:`replay` evaluates it under the candidate evaluator and compares the
segment with the recorded one. Records whose detection timed out or failed hold only
some of the findings (or none) and are skipped, counted by reason (:data:`SKIPPED`).

Identical inputs are evaluated once. When the candidate's modules read only some parts
of ``input`` (found by :func:`input_members_read`: every mention of ``input`` is a path
``input.a.b``), inputs that differ only elsewhere (the content's length, the user's
digest …) share one evaluation: the evaluator is deterministic and cannot see the
difference.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from policy_engine.decision import DETECTION_FAILED, SCAN_TIMEOUT, build_policy_input
from policy_engine.models import PolicyResult, RequestContext
from policy_engine.policy.input_paths import InputPaths, projection_key
from policy_engine.ports import PolicyEvaluator
from policy_engine.records import AuditRecord

EXAMPLES_PER_CHANGE = 5
#: Rules of a record whose findings are incomplete, so replay skips it: rule -> why.
SKIPPED = {SCAN_TIMEOUT: "detection timed out", DETECTION_FAILED: "detection failed"}


def policy_input_of(record: AuditRecord) -> dict[str, Any]:
    """The policy input a record was decided on."""
    context = RequestContext.model_construct(
        **{name: getattr(record.context, name) for name in RequestContext.model_fields}
    )
    findings = [finding.finding() for finding in record.findings]
    return build_policy_input(context, findings, record.content_characters, record.unscanned)


@dataclass
class ReplayReport:
    candidate_revision: str
    considered: int = 0
    replayed: int = 0
    #: Records skipped, by the rule that made their findings incomplete (:data:`SKIPPED`).
    skipped: Counter[str] = field(default_factory=Counter)
    errors: int = 0
    changed: int = 0
    transitions: Counter[tuple[str, str]] = field(default_factory=Counter)
    rules_added: Counter[str] = field(default_factory=Counter)
    rules_removed: Counter[str] = field(default_factory=Counter)
    by_tenant: Counter[str] = field(default_factory=Counter)
    examples: dict[tuple[str, str], list[str]] = field(default_factory=lambda: defaultdict(list))

    def to_dict(self) -> dict[str, Any]:
        return {
            "candidate_revision": self.candidate_revision,
            "considered": self.considered,
            "replayed": self.replayed,
            "skipped_detection_failed": self.skipped.total(),
            "skipped": {rule: self.skipped[rule] for rule in SKIPPED},
            "errors": self.errors,
            "changed": self.changed,
            "transitions": [
                {
                    "from": before,
                    "to": after,
                    "count": count,
                    "examples": self.examples[(before, after)],
                }
                for (before, after), count in sorted(self.transitions.items())
            ],
            "rules": [
                {"rule": rule, "added": self.rules_added[rule], "removed": self.rules_removed[rule]}
                for rule in sorted(set(self.rules_added) | set(self.rules_removed))
            ],
            "by_tenant": [
                {"tenant": tenant, "changed": count}
                for tenant, count in sorted(self.by_tenant.items(), key=lambda i: (-i[1], i[0]))
            ],
        }


def replay(
    records: Iterable[AuditRecord],
    evaluator: PolicyEvaluator,
    *,
    progress: Callable[[int], None] | None = None,
    members_read: InputPaths | None = None,
) -> ReplayReport:
    """Compare each record's segment with the candidate's; ``members_read`` as returned by
    :func:`input_members_read` for the candidate's modules (None: the whole input)."""
    report = ReplayReport(candidate_revision=evaluator.revision)
    cache: dict[str, PolicyResult | None] = {}
    for record in records:
        report.considered += 1
        if progress is not None and report.considered % 500 == 0:
            progress(report.considered)
        recorded_rules = set(record.rules)
        incomplete = next((rule for rule in SKIPPED if rule in recorded_rules), None)
        if incomplete is not None:
            report.skipped[incomplete] += 1
            continue
        try:
            policy_input = policy_input_of(record)
            key = projection_key(policy_input, members_read)
        except (TypeError, ValueError):
            report.errors += 1
            continue
        if key not in cache:
            try:
                cache[key] = evaluator.evaluate(policy_input)
            except Exception:  # a candidate that fails on an input is reported, not fatal
                cache[key] = None
        result = cache[key]
        if result is None:
            report.errors += 1
            continue
        report.replayed += 1
        before, after = record.segment.value, result.segment.value
        if before == after:
            continue
        report.changed += 1
        report.transitions[(before, after)] += 1
        examples = report.examples[(before, after)]
        if len(examples) < EXAMPLES_PER_CHANGE:
            examples.append(record.decision_id)
        candidate_rules = {reason.rule for reason in result.reasons}
        report.rules_added.update(candidate_rules - recorded_rules)
        report.rules_removed.update(recorded_rules - candidate_rules)
        report.by_tenant[record.context.tenant or "(none)"] += 1
    if progress is not None:
        progress(report.considered)
    return report
