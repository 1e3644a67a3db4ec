"""Presidio's default ``AnalyzerEngine`` (same spaCy model), measured in worker processes.

The e-mail recognizer is swapped for the project's offline one (same patterns and check,
no Public Suffix List download), exactly as ``make eval`` does; nothing else changes.
"""

from __future__ import annotations

import multiprocessing
import time
from typing import Any

from bench.measure import own_peak_rss_mb


def build_presidio() -> Any:
    from policy_engine.evaluation.systems import PresidioDefault

    system = PresidioDefault()
    system.predict("warm up with john@example.com")
    return system


def _worker(texts: list[str], start: Any, results: Any) -> None:
    started = time.perf_counter()
    system = build_presidio()
    ready = time.perf_counter() - started
    start.wait()
    began = time.perf_counter()
    for text in texts:
        system.predict(text)
    results.put(
        {
            "startup_s": ready,
            "began": began,
            "ended": time.perf_counter(),
            "count": len(texts),
            "peak_rss_mb": own_peak_rss_mb(),
        }
    )


def throughput(texts: list[str], processes: int) -> dict[str, Any]:
    """Requests/s of ``processes`` fresh processes sharing ``texts``; start-up and RSS each."""
    context = multiprocessing.get_context("spawn")
    start = context.Barrier(processes + 1)
    results = context.Queue()
    workers = [
        context.Process(target=_worker, args=(texts[i::processes], start, results))
        for i in range(processes)
    ]
    for worker in workers:
        worker.start()
    start.wait(timeout=300)  # every worker has built its engine: the clock starts now
    reports = [results.get(timeout=600) for _ in workers]
    for worker in workers:
        worker.join()
    wall = max(r["ended"] for r in reports) - min(r["began"] for r in reports)
    return {
        "processes": processes,
        "requests": sum(r["count"] for r in reports),
        "requests_per_s": round(sum(r["count"] for r in reports) / wall, 2),
        "startup_s": round(max(r["startup_s"] for r in reports), 2),
        "peak_rss_mb": max(r["peak_rss_mb"] for r in reports),
    }
