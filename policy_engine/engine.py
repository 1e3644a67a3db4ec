"""The decision pipeline: take in → detect and evaluate → route → record → answer.

The engine imports neither FastAPI nor Presidio nor regopy: it works on the
:mod:`policy_engine.ports` interfaces, and the composition root
(:mod:`policy_engine.bootstrap`) builds it with every part it uses, once. The one part
that changes while it serves, the policy evaluator, changes through
:meth:`ActiveEvaluator.swap` (hot reload). Failures in detection or evaluation fail closed
(``on_prem_only``, outcome ``fail_closed``, a reason saying why); a failed audit append
raises :class:`AuditError` and no decision is given.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from ulid import ULID

from policy_engine.catalog import Catalog
from policy_engine.decision import (
    DETECTION_FAILED,
    POLICY_FAILED,
    SCAN_TIMEOUT,
    build_policy_input,
    fail_closed,
    rank_endpoints,
    same_answer,
    with_possible_findings,
)
from policy_engine.digest import Digester
from policy_engine.errors import AuditError, ConfigError, DecisionNotRecorded, ScanTimeout
from policy_engine.findings import aggregate
from policy_engine.intake import RequestLimits, parse_request
from policy_engine.logs import get_logger
from policy_engine.models import (
    DecideRequest,
    Decision,
    DetectionReport,
    ExcludedEndpoint,
    Finding,
    PolicyResult,
    Reason,
    RequestContext,
    ScanUnit,
    Segment,
    SkippedStage,
    Unscanned,
)
from policy_engine.observe import DecisionObserver, DecisionSummary, NullObserver, Timings
from policy_engine.ports import AuditLog, Detector, PolicyEvaluator, ShadowPolicy
from policy_engine.records import (
    RECORD_VERSION,
    AuditedContext,
    AuditedFinding,
    AuditRecord,
    utc_text,
)
from policy_engine.scan import DeadlineScanner, Scanned
from policy_engine.version import __version__

log = get_logger("policy_engine.engine")

#: Default per-request detection deadline (``PE_SCAN_DEADLINE_SECONDS``), and what it
#: grows by per 100,000 characters (``PE_SCAN_DEADLINE_SECONDS_PER_100K``).
DEFAULT_SCAN_DEADLINE_SECONDS = 2.0
DEFAULT_SCAN_SECONDS_PER_100K = 5.0


class ActiveEvaluator:
    """The policy evaluator decisions are made with now; hot reload replaces it.

    A decision reads :attr:`current` once and audits that evaluator's revision, so it sees
    either the old evaluator or the new one, never a mix.
    """

    def __init__(self, evaluator: PolicyEvaluator) -> None:
        self._current = evaluator
        self._lock = threading.Lock()

    @property
    def current(self) -> PolicyEvaluator:
        return self._current

    @property
    def revision(self) -> str:
        return self._current.revision

    def swap(self, evaluator: PolicyEvaluator) -> PolicyEvaluator:
        """Make ``evaluator`` the active one; returns the one it replaces."""
        with self._lock:
            previous, self._current = self._current, evaluator
        return previous


@dataclass
class Evaluated:
    """What detection and evaluation found for one request."""

    findings: list[Finding] = field(default_factory=list)
    #: The scanned text each finding was found in (for the values' digests).
    sources: list[ScanUnit] = field(default_factory=list)
    #: The policy's result (the strictest segment until the first evaluation).
    result: PolicyResult = field(default_factory=lambda: PolicyResult(segment=Segment.ON_PREM_ONLY))
    #: Reasons of a detection or evaluation that failed (the decision fails closed).
    failures: list[Reason] = field(default_factory=list)
    policy_failed: bool = False
    report: DetectionReport | None = None
    policy_input: dict[str, Any] = field(default_factory=dict)
    #: Characters scanned, and what the request carries that could not be scanned.
    characters: int = 0
    unscanned: list[Unscanned] = field(default_factory=list)
    #: Seconds spent taking the request in and scanning it.
    detection_seconds: float = 0.0

    @property
    def segment(self) -> Segment:
        return Segment.strictest(self.result.segment, *(r.segment for r in self.failures))

    @property
    def reasons(self) -> list[Reason]:
        return [*self.failures, *self.result.reasons]


@dataclass(frozen=True)
class Route:
    """Where the content may go: the endpoints allowed (cheapest first) and why not others."""

    allowed: list[str]
    excluded: list[ExcludedEndpoint]
    recommended: str | None
    requested_allowed: bool | None


class Engine:
    """Decides where content may go, and records every decision before returning it."""

    #: The composition root's builder behind :meth:`from_settings`; installed by
    #: :mod:`policy_engine.bootstrap` (imported by ``policy_engine.Engine``).
    builder: ClassVar[Callable[[Any], Engine] | None] = None

    def __init__(
        self,
        *,
        detector: Detector,
        evaluator: PolicyEvaluator | ActiveEvaluator,
        catalog: Catalog,
        audit_log: AuditLog,
        digester: Digester,
        limits: RequestLimits | None = None,
        scan_deadline_seconds: float = DEFAULT_SCAN_DEADLINE_SECONDS,
        scan_seconds_per_100k: float = DEFAULT_SCAN_SECONDS_PER_100K,
        scan_workers: int = 4,
        observer: DecisionObserver | None = None,
        shadow: ShadowPolicy | None = None,
        skip_later_stages: bool = True,
        detector_revision: str | None = None,
    ) -> None:
        self.detector = detector
        self.policies = (
            evaluator if isinstance(evaluator, ActiveEvaluator) else ActiveEvaluator(evaluator)
        )
        self.catalog = catalog
        self.audit_log = audit_log
        self.digester = digester
        self.limits = limits if limits is not None else RequestLimits()
        self.scanner = DeadlineScanner(
            detector,
            deadline_seconds=scan_deadline_seconds,
            workers=scan_workers,
            seconds_per_100k=scan_seconds_per_100k,
        )
        self.observer: DecisionObserver = observer if observer is not None else NullObserver()
        #: Shadow mode: a candidate policy set evaluated beside the active one; what it
        #: returns goes into the audit record under ``shadow`` (policy/shadow.py).
        self.shadow = shadow
        #: Whether later detection stages (NER) are skipped once the findings of the earlier
        #: ones force on_prem_only (``PE_SKIP_NER``); the audit record says so.
        self.skip_later_stages = skip_later_stages
        self.detector_revision = detector_revision

    @classmethod
    def from_settings(cls, settings: Any = None) -> Engine:
        """Build the engine from ``PE_*`` settings, exactly as the service does
        (:func:`policy_engine.bootstrap.build_engine`)."""
        if cls.builder is None:
            raise ConfigError(
                "Engine.from_settings needs the composition root: import Engine from"
                " policy_engine (or call policy_engine.bootstrap.build_engine)"
            )
        return cls.builder(settings)

    @property
    def evaluator(self) -> PolicyEvaluator:
        """The policy evaluator decisions are made with now."""
        return self.policies.current

    def close(self) -> None:
        self.scanner.close()
        self.audit_log.close()

    def __enter__(self) -> Engine:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # ------------------------------------------------------------------ the pipeline

    def decide(
        self,
        request: DecideRequest | Mapping[str, Any],
        *,
        caller: str = "local",
        correlation: Mapping[str, str] | None = None,
    ) -> Decision:
        """Scan, evaluate, rank, audit; return the decision the audit log now holds.

        ``correlation`` holds the ids an entry point ties the decision to (a gateway's call
        id, say); the audit record keeps them. They must not carry content.

        Raises :class:`RequestError` for an invalid request (:class:`LimitExceeded` for one
        beyond the limits) and :class:`AuditError` when the decision could not be recorded
        (then there is no decision).
        """
        return self.decide_recorded(request, caller=caller, correlation=correlation).decision()

    def decide_recorded(
        self,
        request: DecideRequest | Mapping[str, Any],
        *,
        caller: str = "local",
        correlation: Mapping[str, str] | None = None,
    ) -> AuditRecord:
        """:meth:`decide`, returning the audit record the log now holds (what an entry point
        that acts on the decision, the routing proxy, builds its delivery record from)."""
        started = time.perf_counter()
        req = parse_request(request, self.limits)
        units = req.segments_to_scan()
        evaluator = self.evaluator  # one evaluator per decision, whatever a reload does
        evaluated = self._detect_and_evaluate(req, units, evaluator, started)
        evaluation_done = time.perf_counter()
        route = self._route(req, evaluated)
        record = self._record(req, units, evaluated, route, evaluator, caller, started, correlation)
        audit_started = time.perf_counter()
        appended = self._append(record)
        finished = time.perf_counter()
        detection_done = started + evaluated.detection_seconds
        self._observe(
            appended,
            evaluated,
            Timings(
                detection=evaluated.detection_seconds,
                evaluation=evaluation_done - detection_done,
                audit=finished - audit_started,
                total=finished - started,
            ),
        )
        return appended

    # ------------------------------------------------------------------ steps

    def _detect_and_evaluate(
        self,
        req: DecideRequest,
        units: list[ScanUnit],
        evaluator: PolicyEvaluator,
        started: float,
    ) -> Evaluated:
        """Scan stage by stage (cheapest first), evaluating after each, until a later stage
        could not change the answer (:meth:`_why_skip`)."""
        characters = sum(len(unit.text) for unit in units)
        unscanned = req.unscanned()
        out = Evaluated(
            characters=characters,
            unscanned=unscanned,
            detection_seconds=time.perf_counter() - started,
        )
        deadline = self.scanner.deadline(characters)
        stages = self.scanner.stages or (None,)
        detected: Scanned = []
        stages_run: list[str] = []
        for index, stage in enumerate(stages):
            if index > 0:
                later = [s for s in stages[index:] if s]
                why_skip = self._why_skip(evaluator, out, later, units)
                if why_skip is not None:
                    skipped = [SkippedStage(stage=s, reason=why_skip) for s in later]
                    out.report = DetectionReport(stages=stages_run, skipped=skipped)
                    break
            stage_started = time.perf_counter()
            failed_before = len(out.failures)
            detected = self._scan_stage(units, stage, detected, deadline, out)
            if stage is not None and len(out.failures) == failed_before:
                stages_run.append(stage)  # only stages that completed: a failure is a reason
            out.findings, out.sources = aggregate(detected)
            out.policy_input = build_policy_input(req.context, out.findings, characters, unscanned)
            out.detection_seconds += time.perf_counter() - stage_started
            out.result, out.policy_failed = self._evaluate(
                evaluator, out.policy_input, out.failures
            )
        if out.report is None and stages_run:
            out.report = DetectionReport(stages=stages_run, skipped=[])
        return out

    def _scan_stage(
        self,
        units: list[ScanUnit],
        stage: str | None,
        earlier: Scanned,
        deadline: float,
        out: Evaluated,
    ) -> Scanned:
        """The spans up to ``stage``; on a timeout or error, a failure in ``out`` and
        ``earlier``'s spans."""
        try:
            return self.scanner.scan(units, stage=stage, earlier=earlier, deadline=deadline)
        except ScanTimeout as exc:  # fail closed; the late result is discarded
            log.warning("scan_timeout", deadline_seconds=self.scanner.budget(out.characters))
            out.failures.append(fail_closed(SCAN_TIMEOUT, str(exc)))
        except Exception as exc:  # fail closed on any detector failure
            log.error("detection_failed", error_type=type(exc).__name__, stage=stage)
            why = f"detection failed ({type(exc).__name__})"
            out.failures.append(fail_closed(DETECTION_FAILED, why))
        return earlier

    @staticmethod
    def _evaluate(
        evaluator: PolicyEvaluator, policy_input: dict[str, Any], failures: list[Reason]
    ) -> tuple[PolicyResult, bool]:
        """The policy's result, and whether evaluation failed (then: on_prem_only, a failure)."""
        try:
            return evaluator.evaluate(policy_input), False
        except Exception as exc:  # fail closed on any policy failure
            log.error("policy_failed", error_type=type(exc).__name__)
            why = f"policy evaluation failed ({type(exc).__name__})"
            failures.append(fail_closed(POLICY_FAILED, why))
            return PolicyResult(segment=Segment.ON_PREM_ONLY), True

    def _why_skip(
        self,
        evaluator: PolicyEvaluator,
        so_far: Evaluated,
        later: list[str],
        units: list[ScanUnit],
    ) -> str | None:
        """Why the ``later`` detection stages need not run, or None when they must.

        They need not when the decision fails closed already, or when the findings so far
        force on_prem_only and a probe shows that the later stages' entity types could not
        change the answer either: the policy, given the findings so far and every one of
        those types in every scanned text, each as often as no request can be and with
        score 1 (:func:`~policy_engine.decision.with_possible_findings`), returns the same
        segment, exclusions and obligations.
        """
        if so_far.failures:
            rules = ", ".join(sorted({r.rule for r in so_far.failures}))
            return f"the decision already fails closed ({rules}); later stages cannot change it"
        result = so_far.result
        if not self.skip_later_stages or result.segment is not Segment.ON_PREM_ONLY:
            return None
        types = self.scanner.stage_entity_types(later)
        try:
            probe = evaluator.evaluate(with_possible_findings(so_far.policy_input, types, units))
        except Exception:  # the probe is an optimisation: on any doubt, run the stages
            return None
        if not same_answer(result, probe):
            return None
        forcing = sorted({r.rule for r in result.reasons if r.segment is Segment.ON_PREM_ONLY})
        return (
            f"the findings so far already force {Segment.ON_PREM_ONLY.value}"
            f" ({', '.join(forcing) or 'policy'}) and {', '.join(types) or 'nothing'}"
            " found later would not change the decision"
        )

    def _route(self, req: DecideRequest, evaluated: Evaluated) -> Route:
        """The endpoints the decision allows, cheapest first, and the one to use."""
        allowed, excluded = rank_endpoints(
            self.catalog,
            evaluated.segment,
            evaluated.result,
            req.context,
            evaluated.characters,
            policy_failed=evaluated.policy_failed,
        )
        requested = req.context.requested_endpoint
        requested_allowed = None if requested is None else requested in allowed
        recommended = requested if requested_allowed else (allowed[0] if allowed else None)
        return Route(allowed, excluded, recommended, requested_allowed)

    def _record(
        self,
        req: DecideRequest,
        units: list[ScanUnit],
        evaluated: Evaluated,
        route: Route,
        evaluator: PolicyEvaluator,
        caller: str,
        started: float,
        correlation: Mapping[str, str] | None,
    ) -> AuditRecord:
        """The audit record of the decision: everything the answer says, and what an auditor
        needs to match it to content (keyed digests, never values)."""
        findings = [
            AuditedFinding.of(
                finding, [self.digester.digest(unit.text[a:b]) for a, b in finding.spans]
            )
            for finding, unit in zip(evaluated.findings, evaluated.sources, strict=True)
        ]
        return AuditRecord(
            record_version=RECORD_VERSION,
            decision_id=str(ULID()),
            time=utc_text(),
            caller=caller,
            context=self._audited_context(req.context),
            content_digest=self.digester.digest("\x1f".join(unit.text for unit in units)),
            content_characters=evaluated.characters,
            findings=findings,
            segment=evaluated.segment,
            allowed_endpoints=route.allowed,
            recommended_endpoint=route.recommended,
            requested_endpoint_allowed=route.requested_allowed,
            excluded_endpoints=route.excluded,
            reasons=evaluated.reasons,
            obligations=evaluated.result.obligations,
            policy_revision=evaluator.revision,
            detector_revision=self.detector_revision,
            engine_version=__version__,
            outcome="fail_closed" if evaluated.failures else "decided",
            latency_ms=round((time.perf_counter() - started) * 1000, 3),
            detection=evaluated.report,
            unscanned=evaluated.unscanned,
            correlation=dict(correlation) if correlation else None,
            shadow=(
                self.shadow(evaluated.policy_input, evaluated.result)
                if self.shadow is not None
                else None
            ),
        )

    def _append(self, record: AuditRecord) -> AuditRecord:
        """The record as the log now holds it; :class:`DecisionNotRecorded` (an
        :class:`AuditError`) when it could not be appended: no record, no decision."""
        try:
            return self.audit_log.append(record)
        except AuditError as exc:
            self.observer.audit_failed()
            log.error("audit_append_failed", error_type=type(exc).__name__)
            raise DecisionNotRecorded(str(exc)) from exc

    def _observe(self, record: AuditRecord, evaluated: Evaluated, timings: Timings) -> None:
        self.observer.decided(
            DecisionSummary(
                segment=record.segment.value,
                outcome=record.outcome,
                rules=[r.rule for r in record.reasons],
                entity_types=record.entity_types,
                fail_closed_rules=[r.rule for r in evaluated.failures],
            ),
            timings,
        )
        log.info(
            "decision",
            decision_id=record.decision_id,
            segment=record.segment.value,
            outcome=record.outcome,
            entity_types=record.entity_types,
            rules=record.rules,
            sequence=record.sequence,
            latency_ms=record.latency_ms,
        )

    def _audited_context(self, context: RequestContext) -> AuditedContext:
        audited = context.model_dump(exclude_none=True)
        if "user" in audited:
            audited["user"] = self.digester.digest(audited["user"])
        return AuditedContext(**audited)
