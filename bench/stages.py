"""What each step of a decision costs: detection, policy evaluation, audit append.

In-process, :class:`StageCollector` is the engine's observer and keeps the step timings of
every decision; over HTTP, :func:`scraped_stage_means` reads the same timings from a
worker's ``/metrics`` (sum / count of ``policy_engine_<step>_seconds``). The policy
evaluator alone is timed in CPU time by :func:`policy_evaluation_cost`, with and without
the result cache.
"""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

import httpx

from policy_engine.observe import DecisionSummary, Timings

STEPS = ("detection", "evaluation", "audit", "decision")
_METRIC = re.compile(r"^policy_engine_(\w+?)_seconds_(sum|count) ([0-9.eE+-]+)$", re.M)


class StageCollector:
    """A :class:`~policy_engine.observe.DecisionObserver` that keeps every step timing."""

    def __init__(self) -> None:
        self.timings: list[Timings] = []

    def decided(self, summary: DecisionSummary, timings: Timings) -> None:
        self.timings.append(timings)

    def audit_failed(self) -> None:
        return None

    def take_means_ms(self) -> dict[str, float]:
        """Mean milliseconds per decision of each step since the last call; then forget."""
        taken, self.timings = self.timings, []
        if not taken:
            return {}
        return {
            step: round(sum(_step(t, step) for t in taken) / len(taken) * 1000, 3) for step in STEPS
        }


def _step(timings: Timings, step: str) -> float:
    return timings.total if step == "decision" else float(getattr(timings, step))


def scraped_totals(client: httpx.Client) -> dict[str, tuple[float, float]]:
    """(sum of seconds, count) of each step, from a worker's ``/metrics``."""
    text = client.get("/metrics").text
    found: dict[str, dict[str, float]] = {}
    for step, kind, value in _METRIC.findall(text):
        if step in STEPS:
            found.setdefault(step, {})[kind] = float(value)
    return {step: (v.get("sum", 0.0), v.get("count", 0.0)) for step, v in found.items()}


def scraped_stage_means(
    after: dict[str, tuple[float, float]], before: dict[str, tuple[float, float]] | None = None
) -> dict[str, float]:
    """Mean milliseconds per decision of each step between two :func:`scraped_totals`."""
    means = {}
    for step, (total, count) in after.items():
        base_total, base_count = (before or {}).get(step, (0.0, 0.0))
        if count > base_count:
            means[step] = round((total - base_total) / (count - base_count) * 1000, 3)
    return means


def policy_evaluation_cost(root: Path, catalog_path: Path, rounds: int = 200) -> dict[str, Any]:
    """CPU milliseconds per evaluation of the shipped policies: distinct inputs (every one a
    cache miss) and a repeated input (a cache hit); the build time of the evaluator."""
    from policy_engine.catalog import load_catalog
    from policy_engine.policy import EmbeddedEvaluator, load_policy_set
    from policy_engine.policy.cache import CachedEvaluator

    policy_set = load_policy_set(
        root / "policies", {"catalog": load_catalog(catalog_path).policy_data()}
    )
    started = time.process_time()
    evaluator = EmbeddedEvaluator(policy_set)
    build_ms = (time.process_time() - started) * 1000
    inputs = [_policy_input(n) for n in range(rounds)]
    cached = CachedEvaluator(evaluator, policy_set, max_entries=rounds)

    def cpu_ms(run: Any) -> float:
        started = time.process_time()
        for item in inputs:
            run(item)
        return round((time.process_time() - started) * 1000 / len(inputs), 3)

    uncached_ms = cpu_ms(evaluator.evaluate)
    cpu_ms(cached.evaluate)  # fill
    hit_ms = cpu_ms(cached.evaluate)
    return {
        "build_ms": round(build_ms, 1),
        "evaluate_ms": uncached_ms,
        "cache_hit_ms": hit_ms,
    }


def _policy_input(n: int) -> dict[str, Any]:
    """A distinct, realistic policy input: a few findings, a context, a length."""
    kinds = [("EMAIL_ADDRESS", "pii"), ("PERSON", "pii"), ("PHONE_NUMBER", "pii")]
    if n % 5 == 0:
        kinds.append(("AWS_ACCESS_KEY", "secret"))
    findings = [
        {"type": t, "category": c, "count": 1 + n % 3, "max_score": 0.85, "detector": "bench"}
        for t, c in kinds[: 1 + n % len(kinds)]
    ]
    return {
        "context": {"tenant": f"t{n}", "application": "support-bot", "purpose": "summarization"},
        "findings": findings,
        "entity_types": sorted({f["type"] for f in findings}),
        "categories": sorted({f["category"] for f in findings}),
        "content": {"characters": 2000 + n, "estimated_tokens": (2000 + n) // 4},
    }
