"""Detection under a per-request deadline, on a bounded pool of worker threads.

A scan that has not finished when its deadline passes raises :class:`ScanTimeout` (the
engine then fails closed with reason ``scan_timeout``); the late result is discarded. A
thread cannot be stopped from outside, so what bounds a runaway scan is the detectors' own
limits (every regex runs with a timeout and releases the GIL), and the pool size bounds how
many can run at once: requests waiting for a free worker spend their deadline waiting.

A staged detector (:class:`~policy_engine.ports.StagedDetector`) is scanned one stage at a
time, all stages of a request under one deadline (:meth:`DeadlineScanner.deadline`).

A request's time grows with its size: ``deadline_seconds`` (``PE_SCAN_DEADLINE_SECONDS``)
plus ``seconds_per_100k`` (``PE_SCAN_DEADLINE_SECONDS_PER_100K``) for every 100,000
characters it holds, so that the largest request the limits admit can be scanned (named
entity recognition costs about 25 ms of CPU per KB of text dense with capitalised words).
"""

from __future__ import annotations

import concurrent.futures
import time
from collections.abc import Sequence

from policy_engine.errors import ScanTimeout
from policy_engine.models import DetectedSpan, ScanUnit
from policy_engine.ports import Detector, StagedDetector

Scanned = list[tuple[ScanUnit, list[DetectedSpan]]]


class DeadlineScanner:
    """Runs a detector over a request's texts, giving up after ``deadline_seconds``."""

    def __init__(
        self,
        detector: Detector,
        *,
        deadline_seconds: float,
        workers: int,
        seconds_per_100k: float = 0.0,
    ) -> None:
        self.detector = detector
        self.deadline_seconds = deadline_seconds
        self.seconds_per_100k = seconds_per_100k
        staged = detector if isinstance(detector, StagedDetector) else None
        self._staged = staged if staged is not None and len(staged.stages) > 1 else None
        #: The detector's stages, cheapest first; ``()`` when it has fewer than two.
        self.stages: tuple[str, ...] = self._staged.stages if self._staged else ()
        self._pool = concurrent.futures.ThreadPoolExecutor(
            max_workers=workers, thread_name_prefix="scan"
        )

    def budget(self, characters: int) -> float:
        """Seconds a request of ``characters`` may spend in detection, all stages."""
        return self.deadline_seconds + self.seconds_per_100k * characters / 100_000

    def deadline(self, characters: int = 0) -> float:
        """The ``time.monotonic()`` by which the scan of a request of ``characters``, all
        stages, must be done."""
        return time.monotonic() + self.budget(characters)

    def scan(
        self,
        units: Sequence[ScanUnit],
        *,
        stage: str | None = None,
        earlier: Scanned | None = None,
        deadline: float | None = None,
    ) -> Scanned:
        """Spans of each unit: of all stages, or up to ``stage`` given ``earlier``'s spans."""
        characters = sum(len(unit.text) for unit in units)
        if deadline is None:
            deadline = self.deadline(characters)
        future = self._pool.submit(self._scan_all, list(units), stage, earlier)
        try:
            return future.result(timeout=max(0.0, deadline - time.monotonic()))
        except concurrent.futures.TimeoutError:
            future.cancel()  # not started yet: never runs; running: its result is dropped
            raise ScanTimeout(self.overrun(characters)) from None

    def overrun(self, characters: int) -> str:
        """What a request of ``characters`` that ran out of time is told."""
        budget = f"{self.budget(characters):.3g} s"
        if not self.seconds_per_100k:
            return f"detection did not finish within {budget} (PE_SCAN_DEADLINE_SECONDS)"
        return (
            f"detection did not finish within {budget} (PE_SCAN_DEADLINE_SECONDS"
            f" {self.deadline_seconds:g} s + PE_SCAN_DEADLINE_SECONDS_PER_100K"
            f" {self.seconds_per_100k:g} s for {characters:,} characters)"
        )

    def _scan_all(
        self, units: list[ScanUnit], stage: str | None, earlier: Scanned | None
    ) -> Scanned:
        if stage is None:
            return [(unit, self.detector.detect(unit.text)) for unit in units]
        if self._staged is None:
            raise ValueError(f"detection stage {stage!r}: the detector has no stages")
        before = [spans for _, spans in earlier] if earlier else [[] for _ in units]
        staged = self._staged
        return [
            (unit, staged.detect_stage(stage, unit.text, spans))
            for unit, spans in zip(units, before, strict=True)
        ]

    def stage_entity_types(self, stages: Sequence[str]) -> list[str]:
        """The entity types that ``stages`` may report, sorted."""
        if self._staged is None:
            return []
        staged = self._staged
        return sorted({t for stage in stages for t in staged.stage_entity_types(stage)})

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
