"""Explain a decision: which rules fired with their messages, and for every catalog endpoint
why it is allowed or excluded. Used by ``policy-engine explain`` and ``POST /decide?explain=true``.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from policy_engine.catalog import Catalog
from policy_engine.models import Decision


class FiredRule(BaseModel):
    rule: str
    effect: str  # "segment", "exclude" or "segment+exclude"
    segment: str | None = None
    messages: list[str]
    excluded_endpoints: list[str] = []


class EndpointExplanation(BaseModel):
    id: str
    deployment: str
    allowed: bool
    recommended: bool
    why: list[str]


class Explanation(BaseModel):
    segment: str
    policy_revision: str
    rules: list[FiredRule]
    obligations: list[str]
    endpoints: list[EndpointExplanation]


def explain(decision: Decision, catalog: Catalog) -> Explanation:
    """The explanation of ``decision`` on ``catalog`` (computed from the decision alone)."""
    rules: dict[str, dict[str, Any]] = {}
    for reason in decision.reasons:
        entry = rules.setdefault(reason.rule, {"messages": [], "excluded": [], "segment": None})
        entry["messages"].append(reason.message)
        entry["segment"] = reason.segment.value
    excluded_by_id = {e.id: e.reasons for e in decision.excluded_endpoints}
    for endpoint_id, reasons in excluded_by_id.items():
        for text in reasons:
            rule, sep, message = text.partition(": ")
            if not sep or " " in rule:
                continue  # segment, context-window and failure reasons are not rules
            entry = rules.setdefault(rule, {"messages": [], "excluded": [], "segment": None})
            if message not in entry["messages"]:
                entry["messages"].append(message)
            entry["excluded"].append(endpoint_id)
    fired = [
        FiredRule(
            rule=rule,
            effect="+".join(
                part
                for part, present in (("segment", e["segment"]), ("exclude", e["excluded"]))
                if present
            ),
            segment=e["segment"],
            messages=e["messages"],
            excluded_endpoints=sorted(e["excluded"]),
        )
        for rule, e in sorted(rules.items())
    ]
    endpoints = []
    for endpoint in catalog.endpoints:
        allowed = endpoint.id in decision.allowed_endpoints
        if allowed:
            rank = decision.allowed_endpoints.index(endpoint.id) + 1
            why = [
                f"deployment {endpoint.deployment} is admitted by segment {decision.segment.value}",
                "no policy rule excludes it",
                "its context window fits the request",
                f"rank {rank} of {len(decision.allowed_endpoints)} by estimated cost",
            ]
        else:
            why = list(excluded_by_id.get(endpoint.id, ["not in the decision"]))
        endpoints.append(
            EndpointExplanation(
                id=endpoint.id,
                deployment=endpoint.deployment,
                allowed=allowed,
                recommended=endpoint.id == decision.recommended_endpoint,
                why=why,
            )
        )
    return Explanation(
        segment=decision.segment.value,
        policy_revision=decision.policy_revision,
        rules=fired,
        obligations=decision.obligations,
        endpoints=endpoints,
    )
