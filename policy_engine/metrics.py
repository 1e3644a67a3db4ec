"""Prometheus metrics of the service (``GET /metrics``).

:class:`Metrics` implements the engine's :class:`~policy_engine.observe.DecisionObserver`
hook and counts authentication failures for the API. Labels are segments, outcomes, rule
ids, entity types and HTTP statuses, never content, keys or user ids. The policy revision
is read at scrape time, so a hot reload shows at once. Each :class:`Metrics` has its own
registry, so several engines in one process do not mix their numbers.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, InfoMetricFamily
from prometheus_client.registry import Collector

from policy_engine.observe import DecisionSummary, Timings
from policy_engine.version import __version__

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
_LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10)


class _PolicyInfo(Collector):
    """``policy_engine_policy_info{revision=…, engine_version=…} 1``, read at scrape time."""

    def __init__(self, revision: Callable[[], str]) -> None:
        self._revision = revision

    def collect(self) -> Iterator[InfoMetricFamily]:
        family = InfoMetricFamily(
            "policy_engine_policy", "The policy revision in force and the engine version"
        )
        family.add_metric([], {"revision": self._revision(), "engine_version": __version__})
        yield family


class _ShadowCounters(Collector):
    """Shadow-mode counters (``PE_SHADOW_POLICIES_DIR``), read at scrape time; none when off."""

    def __init__(self, counters: Callable[[], dict[str, float]]) -> None:
        self._counters = counters

    def collect(self) -> Iterator[CounterMetricFamily]:
        help_texts = {
            "policy_shadow_evaluations_total": "Decisions the shadow policy set also evaluated",
            "policy_shadow_differing_total": "Shadow decisions that differ from the answer given",
            "policy_shadow_errors_total": "Shadow evaluations that failed (answers unaffected)",
        }
        for name, value in self._counters().items():
            family_name = "policy_engine_" + name.removesuffix("_total")
            yield CounterMetricFamily(family_name, help_texts.get(name, name), value=value)


class _GarbageCollector(Collector):
    """``policy_engine_gc_frozen_objects``: what start-up exempted from garbage collection
    (``policy-engine serve`` freezes the objects it loaded; 0 in other processes), and
    ``policy_engine_gc_enabled``: 1 while the collector runs (it is off only while loading)."""

    def collect(self) -> Iterator[GaugeMetricFamily]:
        yield GaugeMetricFamily(
            "policy_engine_gc_frozen_objects",
            "Objects loaded at start-up that the garbage collector no longer walks",
            value=gc.get_freeze_count(),
        )
        yield GaugeMetricFamily(
            "policy_engine_gc_enabled",
            "1 while Python's garbage collector is on",
            value=float(gc.isenabled()),
        )


class Metrics:
    """The service's metrics, in one registry."""

    def __init__(
        self,
        revision: Callable[[], str],
        shadow: Callable[[], dict[str, float]] | None = None,
    ) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.decisions = Counter(
            "policy_engine_decisions",
            "Decisions given, by segment and outcome",
            ["segment", "outcome"],
            registry=r,
        )
        self.rules = Counter(
            "policy_engine_rules_fired",
            "Decisions in which a rule gave a reason",
            ["rule"],
            registry=r,
        )
        self.entities = Counter(
            "policy_engine_entity_types_found",
            "Decisions in which an entity type was found",
            ["entity_type"],
            registry=r,
        )
        self.fail_closed = Counter(
            "policy_engine_fail_closed",
            "Decisions that failed closed, by the rule saying why",
            ["reason"],
            registry=r,
        )
        self.audit_failures = Counter(
            "policy_engine_audit_failures",
            "Decisions withheld because the audit store failed (answered 503)",
            registry=r,
        )
        self.auth_failures = Counter(
            "policy_engine_auth_failures",
            "Requests refused for a missing, unknown or wrong-role key",
            ["status", "error"],
            registry=r,
        )
        self.upstream_attempts = Counter(
            "policy_engine_upstream_attempts",
            "Calls of an upstream by the routing proxy, by catalog endpoint and result",
            ["endpoint", "result"],
            registry=r,
        )
        self.delivery_record_failures = Counter(
            "policy_engine_delivery_record_failures",
            "Delivery records that could not be appended after an answer was sent",
            registry=r,
        )
        self.latency = {
            step: Histogram(
                f"policy_engine_{step}_seconds",
                f"Time spent in {step} per decision",
                buckets=_LATENCY_BUCKETS,
                registry=r,
            )
            for step in ("detection", "evaluation", "audit", "decision")
        }
        r.register(_PolicyInfo(revision))
        r.register(_GarbageCollector())
        if shadow is not None:
            r.register(_ShadowCounters(shadow))

    # ------------------------------------------------------------------ DecisionObserver

    def decided(self, summary: DecisionSummary, timings: Timings) -> None:
        self.decisions.labels(summary.segment, summary.outcome).inc()
        for rule in set(summary.rules):
            self.rules.labels(rule).inc()
        for entity_type in set(summary.entity_types):
            self.entities.labels(entity_type).inc()
        for rule in set(summary.fail_closed_rules):
            self.fail_closed.labels(rule).inc()
        self.latency["detection"].observe(timings.detection)
        self.latency["evaluation"].observe(timings.evaluation)
        self.latency["audit"].observe(timings.audit)
        self.latency["decision"].observe(timings.total)

    def audit_failed(self) -> None:
        self.audit_failures.inc()

    # ------------------------------------------------------------------ API

    def auth_failed(self, status: int, error: str) -> None:
        self.auth_failures.labels(str(status), error).inc()

    def render(self) -> bytes:
        return generate_latest(self.registry)
