"""The engine's observation hook: what a decision cost and how it ended.

The engine calls a :class:`DecisionObserver` once per decision (and once per failed audit
append); :mod:`policy_engine.metrics` implements it with Prometheus metrics. Observers get
types, rule ids and durations, never content.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class Timings:
    """Seconds spent in each step of one decision."""

    detection: float
    evaluation: float
    audit: float
    total: float


@dataclass(frozen=True)
class DecisionSummary:
    """What an observer may know about one decision."""

    segment: str
    outcome: str
    rules: Sequence[str]
    entity_types: Sequence[str]
    fail_closed_rules: Sequence[str]


class DecisionObserver(Protocol):
    def decided(self, summary: DecisionSummary, timings: Timings) -> None: ...

    def audit_failed(self) -> None: ...


class NullObserver:
    """Observes nothing (the Python API's default)."""

    def decided(self, summary: DecisionSummary, timings: Timings) -> None:
        return None

    def audit_failed(self) -> None:
        return None
