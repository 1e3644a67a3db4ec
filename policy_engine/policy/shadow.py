"""Shadow mode: a candidate policy set evaluated beside the active one on live traffic.

The engine calls a :class:`ShadowEvaluator` with every policy input and the active result;
it evaluates the candidate, compares (segment, excluded endpoints, obligations), counts,
logs a difference, and returns the ``shadow`` object the audit record keeps::

    {"revision": "sha256:…", "segment": "on_prem_only", "differs": true,
     "differences": ["segment", "excluded"]}

or ``{"revision": …, "error": "PolicyError", "differs": null}`` when the candidate failed. It
never raises and never changes the answer. :func:`shadow_metrics` exposes the counters (for
``GET /policies/shadow`` and the metrics endpoint).

:func:`build_shadow` runs the candidate's own tests in child processes before it is used, so
that a set that crashes the embedded engine never runs in the serving process.

:class:`ShadowSlot` is what the engine holds (the composition root builds it once): the
candidate now evaluated, if any, and why the last candidate was refused. A policy reload
retries the candidate directory (:meth:`ShadowSlot.retry`); a refused candidate leaves the
one before it running, and ``GET /policies/shadow`` shows the reason.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from policy_engine.errors import PolicyEngineError, PolicyLoadError
from policy_engine.logs import get_logger
from policy_engine.models import PolicyResult
from policy_engine.policy.loader import PolicySet
from policy_engine.ports import PolicyEvaluator

log = get_logger("policy_engine.policy.shadow")


def differences(active: PolicyResult, candidate: PolicyResult) -> list[str]:
    """Which parts of two decisions differ (reasons' wording does not count)."""
    found = []
    if active.segment != candidate.segment:
        found.append("segment")
    if {(x.endpoint, x.rule) for x in active.excluded} != {
        (x.endpoint, x.rule) for x in candidate.excluded
    }:
        found.append("excluded")
    if sorted(active.obligations) != sorted(candidate.obligations):
        found.append("obligations")
    return found


class ShadowEvaluator:
    """Compares a candidate evaluator with the active result; counts and logs. Thread-safe."""

    def __init__(self, evaluator: PolicyEvaluator) -> None:
        self.evaluator = evaluator
        self._lock = threading.Lock()
        self._counts = {"evaluated": 0, "differing": 0, "errors": 0}
        self._by_segment: dict[str, int] = {}

    @property
    def revision(self) -> str:
        return self.evaluator.revision

    def __call__(self, policy_input: Mapping[str, Any], active: PolicyResult) -> dict[str, Any]:
        try:
            candidate = self.evaluator.evaluate(policy_input)
        except Exception as exc:  # a shadow failure never affects the answer
            self._count("errors")
            log.warning("shadow_failed", revision=self.revision, error_type=type(exc).__name__)
            return {"revision": self.revision, "error": type(exc).__name__, "differs": None}
        found = differences(active, candidate)
        self._count("differing" if found else "evaluated", segment=candidate.segment.value)
        if found:
            log.info(
                "shadow_differs",
                revision=self.revision,
                active_segment=active.segment.value,
                shadow_segment=candidate.segment.value,
                differences=found,
            )
        entry: dict[str, Any] = {
            "revision": self.revision,
            "segment": candidate.segment.value,
            "differs": bool(found),
        }
        if found:
            entry["differences"] = found
        return entry

    def _count(self, outcome: str, segment: str | None = None) -> None:
        with self._lock:
            self._counts["evaluated"] += 1
            if outcome != "evaluated":
                self._counts[outcome] += 1
            if segment is not None:
                self._by_segment[segment] = self._by_segment.get(segment, 0) + 1

    def stats(self) -> dict[str, Any]:
        with self._lock:
            return {
                "revision": self.revision,
                **self._counts,
                "shadow_segments": dict(sorted(self._by_segment.items())),
            }


def shadow_metrics(shadow: object) -> dict[str, float]:
    """Counters for a metrics endpoint: ``policy_shadow_evaluations_total``,
    ``policy_shadow_differing_total``, ``policy_shadow_errors_total`` (empty when off).
    ``shadow`` may be a :class:`ShadowSlot` (its current candidate counts)."""
    if isinstance(shadow, ShadowSlot):
        shadow = shadow.current
    if not isinstance(shadow, ShadowEvaluator):
        return {}
    stats = shadow.stats()
    return {
        "policy_shadow_evaluations_total": float(stats["evaluated"]),
        "policy_shadow_differing_total": float(stats["differing"]),
        "policy_shadow_errors_total": float(stats["errors"]),
    }


def build_shadow(
    policy_set: PolicySet, check: Callable[[PolicySet], list[str]] | None = None
) -> ShadowEvaluator:
    """A shadow on ``policy_set``, always on the embedded engine (a shadow must not push to
    the OPA server the active set lives on), after ``check`` (e.g. entity types the running
    detectors cannot report) found nothing and its own tests passed in child processes.
    Raises :class:`PolicyLoadError` naming the problems."""
    from policy_engine.policy.embedded import EmbeddedEvaluator
    from policy_engine.policy.reloader import check_candidate

    problems = check(policy_set) if check is not None else []
    if problems:
        raise PolicyLoadError(
            f"{policy_set.directory}: shadow policy set refused: " + "; ".join(problems[:5])
        )
    _, failures = check_candidate(policy_set)
    if failures:
        raise PolicyLoadError(
            f"{policy_set.directory}: shadow policy set refused, its tests fail: "
            + "; ".join(failures[:5])
        )
    return ShadowEvaluator(EmbeddedEvaluator(policy_set))


class ShadowSlot:
    """The shadow candidate of a directory: the one evaluated now (``current``, None while
    none passed) and the last refusal. The engine calls it with every decision; it returns
    the candidate's entry for the audit record, or None when no candidate runs.

    ``load`` reads the directory into a policy set, ``build`` turns a set into a shadow
    (running its checks and tests); both raise :class:`PolicyEngineError`."""

    def __init__(
        self,
        directory: Path,
        load: Callable[[], PolicySet],
        build: Callable[[PolicySet], ShadowEvaluator],
    ) -> None:
        self.directory = directory
        self._load = load
        self._build = build
        self._lock = threading.Lock()
        self.current: ShadowEvaluator | None = None
        #: ``{"revision", "reason", "time"}`` of the last refused candidate; None once one
        #: is applied.
        self.refused: dict[str, Any] | None = None

    def __call__(
        self, policy_input: Mapping[str, Any], active: PolicyResult
    ) -> dict[str, Any] | None:
        shadow = self.current
        return None if shadow is None else shadow(policy_input, active)

    def retry(self) -> str:
        """Load the directory again: ``applied`` (a new candidate runs, with new counters),
        ``unchanged`` (the same revision as the one running) or ``refused`` (the one before
        keeps running, if any; a refused revision is tried again at the next retry)."""
        with self._lock:
            try:
                candidate = self._load()
            except PolicyEngineError as exc:
                return self._refuse(None, str(exc))
            if self.current is not None and candidate.revision == self.current.revision:
                self.refused = None  # the directory is back to the running candidate
                return "unchanged"
            try:
                shadow = self._build(candidate)
            except PolicyEngineError as exc:
                return self._refuse(candidate.revision, str(exc))
            self.current, self.refused = shadow, None
            log.info("shadow_applied", directory=str(self.directory), revision=shadow.revision)
            return "applied"

    def _refuse(self, revision: str | None, reason: str) -> str:
        self.refused = {
            "revision": revision,
            "reason": reason,
            "time": datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
        }
        log.error("shadow_refused", directory=str(self.directory), error=reason[:500])
        return "refused"

    def status(self) -> dict[str, Any]:
        """What ``GET /policies/shadow`` shows: the counters of the running candidate (if
        any), its directory, and the last refusal (if any)."""
        shadow = self.current
        body: dict[str, Any] = {"enabled": shadow is not None, "directory": str(self.directory)}
        if shadow is not None:
            body.update(shadow.stats())
        body["refused"] = self.refused
        return body
