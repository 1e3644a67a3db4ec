"""Detection under a per-request deadline, on a bounded pool of worker threads.

A scan that has not finished when its deadline passes raises :class:`ScanTimeout` (the
engine then fails closed with reason ``scan_timeout``); the late result is discarded. A
thread cannot be stopped from outside, so what bounds a runaway scan is the detectors' own
limits (every regex runs with a timeout and releases the GIL), and the pool size bounds how
many can run at once: requests waiting for a free worker spend their deadline waiting.
"""

from __future__ import annotations

import concurrent.futures
from collections.abc import Sequence

from policy_engine.errors import ScanTimeout
from policy_engine.models import DetectedSpan, ScanUnit
from policy_engine.ports import Detector

Scanned = list[tuple[ScanUnit, list[DetectedSpan]]]


class DeadlineScanner:
    """Runs a detector over a request's texts, giving up after ``deadline_seconds``."""

    def __init__(self, detector: Detector, *, deadline_seconds: float, workers: int) -> None:
        self.detector = detector
        self.deadline_seconds = deadline_seconds
        self._pool = concurrent.futures.ThreadPoolExecutor(
            max_workers=workers, thread_name_prefix="scan"
        )

    def scan(self, units: Sequence[ScanUnit]) -> Scanned:
        future = self._pool.submit(self._scan_all, list(units))
        try:
            return future.result(timeout=self.deadline_seconds)
        except concurrent.futures.TimeoutError:
            future.cancel()  # not started yet: never runs; running: its result is dropped
            raise ScanTimeout(
                f"detection did not finish within {self.deadline_seconds:g} s"
            ) from None

    def _scan_all(self, units: list[ScanUnit]) -> Scanned:
        return [(unit, self.detector.detect(unit.text)) for unit in units]

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
