"""A small log whose savings are computed by hand below, for the report's tests (the
function, the CLI and the console page all must give these numbers).

Prices (examples/catalog.yaml, USD per million tokens, in/out): gpt-4o 2.50/10.00,
glm-4-plus-fireworks and glm-4-plus-zhipu 0.20/0.80, onprem-qwen3-32b 0.60/1.20,
onprem-lab-glm4-9b 0.05/0.20, qwen3-32b-together 0.30/1.20, deepseek-v4-flash 0.27/1.10,
deepseek-v4-pro 0.55/2.20.

A  any, 4000 chars -> 1000 in, max_output 500 -> 500 out, glm-4-plus-fireworks:
   chosen (1000*0.20 + 500*0.80)/1e6 = 0.0006     baseline (2500 + 5000)/1e6 = 0.0075
   the lab box (0.05/0.20: 0.00015) is cheaper and excluded by provenance: +0.00045
B  on_prem_only, 2001 chars -> 501 in, 512 out (default), onprem-qwen3-32b:
   chosen (300.6 + 614.4)/1e6 = 0.000915         baseline (1252.5 + 5120)/1e6 = 0.0063725
   the lab box (25.05 + 102.4 = 0.00012745) excluded by provenance: +0.00078755
C  trusted_hosted, delivered by qwen3-32b-together with usage 1200 in / 300 out, tier balanced:
   chosen (360 + 360)/1e6 = 0.00072               baseline (3000 + 3000)/1e6 = 0.006
   cheapest named: fireworks (allowed) = zhipu (excluded) = 0.00048: not kept away
D  trusted_hosted, 400 chars -> 100 in, 100 out, qwen3-32b-together, context tier practical:
   chosen (30 + 120)/1e6 = 0.00015                baseline (250 + 1000)/1e6 = 0.00125
   zhipu (0.0001) excluded by the segment: +0.00005
E  failed closed, nothing allowed                 -> no endpoint
F  delivered by nobody (every attempt failed)     -> undelivered
G  recommends an endpoint the catalog lacks       -> unpriced

Totals over A-D: chosen 0.002385, baseline 0.0211225, saved 0.0187375 (88.71 %);
by segment: any 0.0006/0.0075, on_prem_only 0.000915/0.0063725,
trusted_hosted 0.00087/0.00725; by tier (C's delivery and D's context name theirs, A's and
B's endpoints are balanced in the catalog): balanced 3 decisions 0.002235/0.0198725,
practical 0.00015/0.00125; tokens measured 1 decision 1200/300, estimated 3 decisions
1601/1112; kept from cheaper 3 (policy 2, segment 1), extra 0.00128755.
With --baseline deepseek-v4-pro (0.55/2.20): 0.00165 + 0.00140195 + 0.00132 + 0.000275
= 0.00464695.
"""

from __future__ import annotations

from typing import Any

from policy_engine.records import AuditRecord

HOSTED = [
    "glm-4-plus-fireworks",
    "glm-4-plus-zhipu",
    "deepseek-v4-flash",
    "qwen3-32b-alibaba",
    "qwen3-32b-together",
    "onprem-qwen3-32b",
    "deepseek-v4-pro",
    "gpt-4o",
]
PROVENANCE = "provenance.unverified_weights: on-prem weights digest not pinned"

#: The report's ``total`` over the whole log (see the module docstring).
EXPECTED_TOTAL = {
    "decisions": 4,
    "chosen_usd": "0.002385",
    "baseline_usd": "0.0211225",
    "saved_usd": "0.0187375",
    "saved_percent": "88.71",
}
DAY = "2026-11-20"


def record(n: int, segment: str, **fields: Any) -> AuditRecord:
    body: dict[str, Any] = {
        "decision_id": f"s-{n:04d}",
        "time": f"{DAY}T10:00:{n:02d}.000000Z",
        "caller": "key-test",
        "context": {"tenant": "acme"},
        "content_digest": f"hmac-sha256:{n:064x}",
        "content_characters": 100,
        "findings": [],
        "segment": segment,
        "allowed_endpoints": [],
        "recommended_endpoint": None,
        "requested_endpoint_allowed": None,
        "excluded_endpoints": [],
        "reasons": [],
        "obligations": [],
        "policy_revision": "sha256:test",
        "engine_version": "0.1.0",
        "outcome": "decided",
        "latency_ms": 1.0,
    }
    body.update(fields)
    return AuditRecord.model_validate(body)


def segment_excluded(segment: str, *ids: str) -> list[dict[str, Any]]:
    return [{"id": e, "reasons": [f"segment {segment}"]} for e in ids]


def savings_log() -> list[AuditRecord]:
    """Records A-G and C's delivery record, in log order."""
    lab = {"id": "onprem-lab-glm4-9b", "reasons": [PROVENANCE]}
    a = record(
        1,
        "any",
        content_characters=4000,
        context={"tenant": "acme", "max_output_tokens": 500},
        allowed_endpoints=HOSTED,
        recommended_endpoint="glm-4-plus-fireworks",
        excluded_endpoints=[lab],
    )
    b = record(
        2,
        "on_prem_only",
        content_characters=2001,
        allowed_endpoints=["onprem-qwen3-32b"],
        recommended_endpoint="onprem-qwen3-32b",
        excluded_endpoints=[lab, *segment_excluded("on_prem_only", *HOSTED[:5], *HOSTED[6:])],
        reasons=[{"rule": "isolation.sensitive_pii", "segment": "on_prem_only", "message": "x"}],
    )
    c = record(
        3,
        "trusted_hosted",
        allowed_endpoints=["glm-4-plus-fireworks", "qwen3-32b-together", "gpt-4o"],
        recommended_endpoint="glm-4-plus-fireworks",
        excluded_endpoints=segment_excluded("trusted_hosted", "glm-4-plus-zhipu"),
    )
    d = record(
        4,
        "trusted_hosted",
        content_characters=400,
        context={"tenant": "globex", "max_output_tokens": 100, "tier": "practical"},
        allowed_endpoints=["qwen3-32b-together", "gpt-4o"],
        recommended_endpoint="qwen3-32b-together",
        excluded_endpoints=segment_excluded(
            "trusted_hosted", "glm-4-plus-zhipu", "deepseek-v4-flash"
        ),
    )
    e = record(
        5,
        "on_prem_only",
        outcome="fail_closed",
        reasons=[{"rule": "engine.policy_failed", "segment": "on_prem_only", "message": "x"}],
    )
    f = record(
        6,
        "any",
        allowed_endpoints=["glm-4-plus-fireworks"],
        recommended_endpoint="glm-4-plus-fireworks",
    )
    g = record(
        7,
        "any",
        allowed_endpoints=["retired-endpoint"],
        recommended_endpoint="retired-endpoint",
    )
    return [
        a,
        b,
        c,
        d,
        e,
        f,
        g,
        delivery(8, c, "qwen3-32b-together", {"prompt_tokens": 1200, "completion_tokens": 300}),
        delivery(9, f, None, None),
    ]


def delivery(
    n: int, decision: AuditRecord, endpoint: str | None, usage: dict[str, int] | None
) -> AuditRecord:
    """A delivery record (the routing proxy's, per the agreed design) for ``decision``."""
    fields = decision.document()
    fields.update(
        decision_id=f"s-{n:04d}",
        time=f"{DAY}T10:00:{n:02d}.000000Z",
        findings=[],
        kind="delivery",
        delivers=decision.decision_id,
        delivery={
            "endpoint": endpoint,
            "upstream_model": endpoint,
            "attempts": [
                {
                    "endpoint": endpoint or "glm-4-plus-fireworks",
                    "result": "ok" if endpoint else "http_5xx",
                    "status": 200 if endpoint else 502,
                    "latency_ms": 12.5,
                }
            ],
            "usage": None if usage is None else {**usage, "total_tokens": sum(usage.values())},
            "stream": False,
            "masked_types": [],
            "tier": "balanced" if endpoint else None,
        },
    )
    return AuditRecord.model_validate(fields)
