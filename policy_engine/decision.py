"""The pure parts of a decision: the policy input, the probe, ranking, failing closed.

Nothing here does I/O or holds state; the engine (:mod:`policy_engine.engine`), replay
(:mod:`policy_engine.audit.replay`) and the YAML test cases
(:mod:`policy_engine.policy.yaml_cases`) all build a decision's parts with these
functions, so that a replayed or tested input is exactly the one the engine built.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from policy_engine.catalog import DEFAULT_OUTPUT_TOKENS, Catalog, estimate_tokens
from policy_engine.models import (
    TIERS,
    ExcludedEndpoint,
    Finding,
    PolicyResult,
    Reason,
    RequestContext,
    ScanUnit,
    Segment,
    Tier,
    Unscanned,
)

#: Rule ids of the reasons a decision that failed closed carries.
DETECTION_FAILED = "engine.detection_failed"
POLICY_FAILED = "engine.policy_failed"
SCAN_TIMEOUT = "scan_timeout"

#: The count every finding has in a probe: more than any request can hold (a finding's count
#: is at most the characters scanned, and requests are bounded far below this).
PROBE_COUNT = 1_000_000_000

#: Obligations by which a policy chooses the routing tier: ``tier:advanced`` ...
TIER_OBLIGATION = "tier:"
# The reason an endpoint the request named, but the catalog does not hold, is excluded
# (entry points that map their own model names, such as LiteLLM's, test for it).
NOT_IN_CATALOG = "not in the catalog"


def output_tokens(context: RequestContext) -> int:
    """The output tokens a request asks for: ``max_output_tokens``, or the default assumed."""
    requested = context.max_output_tokens
    return requested if requested is not None else DEFAULT_OUTPUT_TOKENS


def build_policy_input(
    context: RequestContext,
    findings: list[Finding],
    characters: int,
    unscanned: Sequence[Unscanned] = (),
) -> dict[str, Any]:
    """The document a policy sees as ``input`` (ARCHITECTURE.md, policy contract; the
    fields are described in docs/policies.md, "The policy input"), with ``unscanned``: what
    the request carries that could not be scanned (images, audio ...)."""
    prompt_tokens = estimate_tokens(characters)
    output = output_tokens(context)
    return {
        "context": context.model_dump(exclude_none=True),
        "findings": [finding.policy_view() for finding in findings],
        "entity_types": sorted({finding.type for finding in findings}),
        "categories": sorted({finding.category for finding in findings}),
        "content": {"characters": characters, "estimated_tokens": prompt_tokens},
        "task": {
            "prompt_tokens": prompt_tokens,
            "output_tokens": output,
            "total_tokens": prompt_tokens + output,
        },
        "unscanned": [item.model_dump(exclude_none=True) for item in unscanned],
    }


def routing_tier(context: RequestContext, obligations: list[str]) -> Tier | None:
    """The tier ranking prefers: the request's ``context.tier``; else the most capable tier
    a policy chose with a ``tier:NAME`` obligation; else None. Unknown names are ignored."""
    if context.tier is not None:
        return context.tier
    chosen = {o.removeprefix(TIER_OBLIGATION) for o in obligations if o.startswith(TIER_OBLIGATION)}
    return next((tier for tier in TIERS if tier in chosen), None)


def with_possible_findings(
    policy_input: dict[str, Any], entity_types: list[str], units: list[ScanUnit]
) -> dict[str, Any]:
    """``policy_input`` at its most: each finding so far, and each of ``entity_types`` found
    in every scanned text as well, with :data:`PROBE_COUNT` matches of score 1.

    Nothing a later stage reports, and no count or score it raises, goes beyond this
    input, so a policy that only gets stricter with more findings answers the real input
    with later findings between its answers to ``policy_input`` and to this one. The
    probe depends only on which findings there are (not on how many, nor on the text's
    length), so probes of like prompts are one entry of the policy result cache.
    """
    most = {"count": PROBE_COUNT, "max_score": 1.0}
    added = [
        Finding(
            type=entity_type,
            category="pii",
            count=PROBE_COUNT,
            max_score=1.0,
            spans=[],
            detector="probe",
            message=unit.message,
            part=unit.part,
            path=unit.path,
        ).policy_view()
        for unit in units
        for entity_type in entity_types
    ]
    return {
        **policy_input,
        "findings": [*({**f, **most} for f in policy_input["findings"]), *added],
        "entity_types": sorted({*policy_input["entity_types"], *entity_types}),
        "categories": sorted({*policy_input["categories"], *(["pii"] if added else [])}),
    }


def same_answer(a: PolicyResult, b: PolicyResult) -> bool:
    """Whether two results route alike: segment, exclusions and obligations."""

    def exclusions(result: PolicyResult) -> set[tuple[str, str, str]]:
        return {(e.endpoint, e.rule, e.message) for e in result.excluded}

    return (
        a.segment is b.segment
        and exclusions(a) == exclusions(b)
        and sorted(a.obligations) == sorted(b.obligations)
    )


def fail_closed(rule: str, why: str) -> Reason:
    """The reason of a decision that failed closed: the strictest segment, and why."""
    return Reason(rule=rule, segment=Segment.ON_PREM_ONLY, message=f"{why}: failing closed")


def rank_endpoints(
    catalog: Catalog,
    segment: Segment,
    result: PolicyResult,
    context: RequestContext,
    characters: int,
    *,
    policy_failed: bool = False,
) -> tuple[list[str], list[ExcludedEndpoint]]:
    """Allowed endpoint ids, cheapest first, and every other endpoint with its reasons; a
    requested endpoint the catalog does not know is among the excluded, with the known ones.

    With a routing tier (:func:`routing_tier`) the allowed endpoints of that tier come
    first, cheapest first, then the other allowed ones, cheapest first: a tier never
    admits an endpoint, it only orders the compliant ones.
    """
    input_tokens = estimate_tokens(characters)
    output = output_tokens(context)
    tier = routing_tier(context, result.obligations)
    needed = input_tokens + output
    by_endpoint: dict[str, list[str]] = defaultdict(list)
    for exclusion in result.excluded:
        by_endpoint[exclusion.endpoint].append(f"{exclusion.rule}: {exclusion.message}")

    allowed: list[tuple[bool, float, str]] = []
    excluded: list[ExcludedEndpoint] = []
    for endpoint in catalog.endpoints:
        reasons: list[str] = []
        if policy_failed:
            reasons.append("policy evaluation failed: provenance could not be checked")
        if not segment.admits(endpoint.deployment):
            reasons.append(f"segment {segment.value}")
        reasons.extend(by_endpoint.get(endpoint.id, []))
        if needed > endpoint.context_window:
            reasons.append(
                f"context window {endpoint.context_window} tokens is too small for about"
                f" {needed} tokens ({input_tokens} in + {output} out)"
            )
        if reasons:
            excluded.append(ExcludedEndpoint(id=endpoint.id, reasons=reasons))
        else:
            cost = endpoint.estimated_cost(input_tokens, output)
            allowed.append((tier is not None and endpoint.tier != tier, cost, endpoint.id))
    allowed.sort()
    requested = context.requested_endpoint
    if requested is not None and catalog.by_id(requested) is None:
        known = ", ".join(endpoint.id for endpoint in catalog.endpoints)
        excluded.append(
            ExcludedEndpoint(id=requested, reasons=[f"{NOT_IN_CATALOG}; known: {known}"])
        )
    return [endpoint_id for _, _, endpoint_id in allowed], excluded
