"""Small measuring helpers of ``make bench``: percentiles, timing, peak memory."""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

#: Rule of the reasons that mark a fail-closed decision (timeout or detector failure).
FAIL_CLOSED_RULES = frozenset({"scan_timeout", "engine.detection_failed"})


def percentile(samples: Sequence[float], q: float) -> float:
    ordered = sorted(samples)
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


def summary(samples_ms: Sequence[float]) -> dict[str, float]:
    return {
        "p50_ms": round(statistics.median(samples_ms), 2),
        "p99_ms": round(percentile(samples_ms, 0.99), 2),
        "mean_ms": round(statistics.fmean(samples_ms), 2),
    }


def timed(fn: Callable[[Any], Any], items: Sequence[Any]) -> tuple[list[float], list[Any]]:
    """Milliseconds per call of ``fn`` on each item, and what each call returned."""
    samples: list[float] = []
    outputs: list[Any] = []
    for item in items:
        started = time.perf_counter()
        outputs.append(fn(item))
        samples.append((time.perf_counter() - started) * 1000)
    return samples, outputs


def fail_closed(decision: dict[str, Any]) -> bool:
    """Whether a decision (as JSON) failed closed because detection did not finish."""
    return any(reason.get("rule") in FAIL_CLOSED_RULES for reason in decision.get("reasons", []))


def own_peak_rss_mb() -> float:
    """Peak resident memory of this process (VmHWM: ru_maxrss survives fork and exec)."""
    return peak_rss_mb(os.getpid())


def peak_rss_mb(pid: int) -> float:
    """Peak resident memory (VmHWM) of a running process."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024, 1)
    return float("nan")


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds a running process has used so far (/proc/PID/stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return round((int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK"), 2)
