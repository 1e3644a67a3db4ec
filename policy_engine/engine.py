"""The decision pipeline: detect → evaluate → rank endpoints → audit.

The engine imports neither FastAPI nor Presidio nor regopy: it works on the
:mod:`policy_engine.ports` interfaces, and :mod:`policy_engine.bootstrap` picks
the implementations. Failures in detection or evaluation fail closed
(``on_prem_only``, outcome ``fail_closed``, a reason saying why); a failed audit
append raises :class:`AuditError` and no decision is given.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError
from ulid import ULID

from policy_engine import __version__
from policy_engine.catalog import DEFAULT_OUTPUT_TOKENS, Catalog, estimate_tokens
from policy_engine.digest import Digester
from policy_engine.errors import AuditError, RequestError, ScanTimeout
from policy_engine.logs import get_logger
from policy_engine.models import (
    AuditReceipt,
    DecideRequest,
    Decision,
    DetectedSpan,
    DetectionReport,
    ExcludedEndpoint,
    Finding,
    PolicyResult,
    Reason,
    RequestContext,
    ScanUnit,
    Segment,
    SkippedStage,
)
from policy_engine.observe import DecisionObserver, DecisionSummary, NullObserver, Timings
from policy_engine.ports import AuditStore, Detector, PolicyEvaluator
from policy_engine.scan import DeadlineScanner, Scanned
from policy_engine.validation import describe_validation_error, validation_details

log = get_logger("policy_engine.engine")

DETECTION_FAILED = "engine.detection_failed"
POLICY_FAILED = "engine.policy_failed"
SCAN_TIMEOUT = "scan_timeout"
#: Default per-request detection deadline (``PE_SCAN_DEADLINE_SECONDS``).
DEFAULT_SCAN_DEADLINE_SECONDS = 2.0


class Engine:
    """Decides where content may go, and records every decision before returning it."""

    def __init__(
        self,
        *,
        detector: Detector,
        evaluator: PolicyEvaluator,
        catalog: Catalog,
        audit_store: AuditStore,
        digester: Digester,
        scan_deadline_seconds: float = DEFAULT_SCAN_DEADLINE_SECONDS,
        scan_workers: int = 4,
        observer: DecisionObserver | None = None,
        skip_later_stages: bool = True,
    ) -> None:
        self.detector = detector
        self.evaluator = evaluator
        self.catalog = catalog
        self.audit_store = audit_store
        self.digester = digester
        self.scanner = DeadlineScanner(
            detector, deadline_seconds=scan_deadline_seconds, workers=scan_workers
        )
        self.observer: DecisionObserver = observer if observer is not None else NullObserver()
        #: Whether later detection stages (NER) are skipped once the findings of the earlier
        #: ones force on_prem_only (``PE_SKIP_NER``); the audit record says so.
        self.skip_later_stages = skip_later_stages
        #: Shadow mode: called with each policy input and the active result, returns what the
        #: audit record keeps under ``shadow``; must never raise (policy/shadow.py).
        self.shadow: Callable[[Mapping[str, Any], PolicyResult], dict[str, Any]] | None = None

    @classmethod
    def from_settings(cls, settings: Any = None) -> Engine:
        """Build the engine from ``PE_*`` settings, exactly as the service does."""
        from policy_engine.bootstrap import build_engine

        return build_engine(settings)

    def close(self) -> None:
        self.scanner.close()
        self.audit_store.close()

    def __enter__(self) -> Engine:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # ------------------------------------------------------------------ the pipeline

    def decide(
        self, request: DecideRequest | Mapping[str, Any], *, caller: str = "local"
    ) -> Decision:
        """Scan, evaluate, rank, audit; return the decision the audit log now holds.

        Raises :class:`RequestError` for an invalid request and :class:`AuditError`
        when the decision could not be recorded (then there is no decision).
        """
        started = time.perf_counter()
        req = parse_request(request)
        units = req.segments_to_scan()
        characters = sum(len(unit.text) for unit in units)
        failures: list[Reason] = []
        evaluator = self.evaluator  # one evaluator per decision: a reload swaps the attribute
        deadline = self.scanner.deadline()
        stages = self.scanner.stages or (None,)
        detected: Scanned = []
        result = PolicyResult(segment=Segment.ON_PREM_ONLY)  # replaced by the first evaluation
        policy_input: dict[str, Any] = {}
        policy_failed = False
        stages_run: list[str] = []
        skipped: list[SkippedStage] = []
        detection_time = time.perf_counter() - started
        for index, stage in enumerate(stages):
            if index > 0:
                later = [s for s in stages[index:] if s]
                why_skip = self._why_skip(evaluator, policy_input, result, failures, later, units)
                if why_skip is not None:
                    skipped = [SkippedStage(stage=s, reason=why_skip) for s in stages[index:] if s]
                    break
            stage_started = time.perf_counter()
            detected = self._scan_stage(units, stage, detected, deadline, failures)
            if stage is not None:
                stages_run.append(stage)
            findings, sources = self._aggregate(detected)
            policy_input = build_policy_input(req.context, findings, characters)
            evaluation_started = time.perf_counter()
            detection_time += evaluation_started - stage_started
            result, policy_failed = self._evaluate(evaluator, policy_input, failures)
        detection_done = started + detection_time
        value_digests = self._value_digests(findings, sources)  # once, for the final findings
        report = DetectionReport(stages=stages_run, skipped=skipped) if stages_run else None

        evaluation_done = time.perf_counter()
        reasons = [*failures, *result.reasons]
        segment = Segment.strictest(result.segment, *(r.segment for r in failures))
        allowed, excluded = rank_endpoints(
            self.catalog, segment, result, req.context, characters, policy_failed=policy_failed
        )
        requested = req.context.requested_endpoint
        requested_allowed = None if requested is None else requested in allowed
        recommended = requested if requested_allowed else (allowed[0] if allowed else None)
        outcome = "fail_closed" if failures else "decided"
        decision_id = str(ULID())

        entry = {
            "decision_id": decision_id,
            "time": datetime.now(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z"),
            "caller": caller,
            "context": self._audited_context(req.context),
            "content_digest": self.digester.digest("\x1f".join(unit.text for unit in units)),
            "content_characters": characters,
            "findings": [
                {**finding.model_dump(exclude_none=True), "value_digests": digests}
                for finding, digests in zip(findings, value_digests, strict=True)
            ],
            "segment": segment.value,
            "allowed_endpoints": allowed,
            "recommended_endpoint": recommended,
            "requested_endpoint_allowed": requested_allowed,
            "excluded_endpoints": [e.model_dump() for e in excluded],
            "reasons": [r.model_dump(mode="json") for r in reasons],
            "obligations": result.obligations,
            "policy_revision": evaluator.revision,
            "engine_version": __version__,
            "outcome": outcome,
            "latency_ms": round((time.perf_counter() - started) * 1000, 3),
        }
        if report is not None:
            entry["detection"] = report.model_dump()
        if self.shadow is not None:
            entry["shadow"] = self.shadow(policy_input, result)
        audit_started = time.perf_counter()
        try:
            record = self.audit_store.append(entry)  # AuditError: no record, no decision
        except AuditError:
            self.observer.audit_failed()
            raise
        finished = time.perf_counter()
        self.observer.decided(
            DecisionSummary(
                segment=segment.value,
                outcome=outcome,
                rules=[r.rule for r in reasons],
                entity_types=sorted({f.type for f in findings}),
                fail_closed_rules=[r.rule for r in failures],
            ),
            Timings(
                detection=detection_done - started,
                evaluation=evaluation_done - detection_done,
                audit=finished - audit_started,
                total=finished - started,
            ),
        )
        log.info(
            "decision",
            decision_id=decision_id,
            segment=segment.value,
            outcome=outcome,
            entity_types=sorted({f.type for f in findings}),
            rules=sorted({r.rule for r in reasons}),
            sequence=record["sequence"],
            latency_ms=entry["latency_ms"],
        )
        return Decision(
            decision_id=decision_id,
            segment=segment,
            allowed_endpoints=allowed,
            recommended_endpoint=recommended,
            requested_endpoint_allowed=requested_allowed,
            excluded_endpoints=excluded,
            findings=findings,
            reasons=reasons,
            obligations=result.obligations,
            policy_revision=record["policy_revision"],
            outcome=outcome,  # type: ignore[arg-type]
            audit=AuditReceipt(sequence=record["sequence"], hash=record["hash"]),
            detection=report,
        )

    # ------------------------------------------------------------------ steps

    def _scan_stage(
        self,
        units: list[ScanUnit],
        stage: str | None,
        earlier: Scanned,
        deadline: float,
        failures: list[Reason],
    ) -> Scanned:
        """The spans up to ``stage``; on a timeout or error, a failure and ``earlier``'s spans."""
        try:
            return self.scanner.scan(units, stage=stage, earlier=earlier, deadline=deadline)
        except ScanTimeout as exc:  # fail closed; the late result is discarded
            log.warning("scan_timeout", deadline_seconds=self.scanner.deadline_seconds)
            failures.append(fail_closed(SCAN_TIMEOUT, str(exc)))
        except Exception as exc:  # fail closed on any detector failure
            log.error("detection_failed", error_type=type(exc).__name__, stage=stage)
            why = f"detection failed ({type(exc).__name__})"
            failures.append(fail_closed(DETECTION_FAILED, why))
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
        policy_input: dict[str, Any],
        result: PolicyResult,
        failures: list[Reason],
        later: list[str],
        units: list[ScanUnit],
    ) -> str | None:
        """Why the ``later`` detection stages need not run, or None when they must.

        They need not when the decision fails closed already, or when the findings so far
        force on_prem_only and a probe shows that the later stages' entity types could not
        change the answer either: the policy, given the findings so far and every one of
        those types in every scanned text, each as often as no request can be and with
        score 1 (:func:`with_possible_findings`), returns the same segment, exclusions and
        obligations.
        """
        if failures:
            rules = ", ".join(sorted({r.rule for r in failures}))
            return f"the decision already fails closed ({rules}); later stages cannot change it"
        if not self.skip_later_stages or result.segment is not Segment.ON_PREM_ONLY:
            return None
        types = self.scanner.stage_entity_types(later)
        try:
            probe = evaluator.evaluate(with_possible_findings(policy_input, types, units))
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

    @staticmethod
    def _aggregate(
        detected: list[tuple[ScanUnit, list[DetectedSpan]]],
    ) -> tuple[list[Finding], list[ScanUnit]]:
        """Group spans by (scanned text, detector, type, encoding) into findings, each with
        the text it was found in.

        A finding from an encoded payload (``encoded`` set) spans the whole encoded run.
        """
        findings: list[Finding] = []
        sources: list[ScanUnit] = []
        for unit, spans in detected:
            groups: dict[tuple[str, str, str, str], list[DetectedSpan]] = defaultdict(list)
            for span in spans:
                groups[(span.type, span.detector, span.category, span.encoded or "")].append(span)
            for (entity_type, detector, category, encoded), group in sorted(groups.items()):
                group.sort(key=lambda s: (s.start, s.end))
                findings.append(
                    # Every field is built here from validated spans (a count of at least
                    # one, scores in [0, 1]): no second validation on the hot path.
                    Finding.model_construct(
                        type=entity_type,
                        category=category,
                        count=len(group),
                        max_score=round(max(s.score for s in group), 4),
                        spans=[(s.start, s.end) for s in group],
                        detector=detector,
                        message=unit.message,
                        part=unit.part,
                        encoded=encoded or None,
                    )
                )
                sources.append(unit)
        return findings, sources

    def _value_digests(self, findings: list[Finding], sources: list[ScanUnit]) -> list[list[str]]:
        """Keyed digests of each finding's matched values, in span order."""
        return [
            [self.digester.digest(unit.text[start:end]) for start, end in finding.spans]
            for finding, unit in zip(findings, sources, strict=True)
        ]

    def _audited_context(self, context: RequestContext) -> dict[str, Any]:
        audited = context.model_dump(exclude_none=True)
        if "user" in audited:
            audited["user"] = self.digester.digest(audited["user"])
        return audited


#: The count every finding has in a probe: more than any request can hold (a finding's count
#: is at most the characters scanned, and requests are bounded far below this).
PROBE_COUNT = 1_000_000_000


def with_possible_findings(
    policy_input: dict[str, Any], entity_types: list[str], units: list[ScanUnit]
) -> dict[str, Any]:
    """``policy_input`` at its most: each finding so far, and each of ``entity_types`` found
    in every scanned text as well, with :data:`PROBE_COUNT` matches of score 1.

    Nothing a later stage reports, and no count or score it raises, goes beyond this
    input, so a policy that only gets stricter with more findings answers the real input
    with later findings between its answers to ``policy_input`` and to this one. The
    probe depends only on which findings there are (not on how many, nor on the text's
    length), so probes of like prompts are one entry of the policy result cache.
    """
    most = {"count": PROBE_COUNT, "max_score": 1.0}
    added = [
        Finding(
            type=entity_type,
            category="pii",
            count=PROBE_COUNT,
            max_score=1.0,
            spans=[],
            detector="probe",
            message=unit.message,
            part=unit.part,
        ).policy_view()
        for unit in units
        for entity_type in entity_types
    ]
    return {
        **policy_input,
        "findings": [*({**f, **most} for f in policy_input["findings"]), *added],
        "entity_types": sorted({*policy_input["entity_types"], *entity_types}),
        "categories": sorted({*policy_input["categories"], *(["pii"] if added else [])}),
    }


def same_answer(a: PolicyResult, b: PolicyResult) -> bool:
    """Whether two results route alike: segment, exclusions and obligations."""

    def exclusions(result: PolicyResult) -> set[tuple[str, str, str]]:
        return {(e.endpoint, e.rule, e.message) for e in result.excluded}

    return (
        a.segment is b.segment
        and exclusions(a) == exclusions(b)
        and sorted(a.obligations) == sorted(b.obligations)
    )


def fail_closed(rule: str, why: str) -> Reason:
    """The reason of a decision that failed closed: the strictest segment, and why."""
    return Reason(rule=rule, segment=Segment.ON_PREM_ONLY, message=f"{why}: failing closed")


def parse_request(request: DecideRequest | Mapping[str, Any]) -> DecideRequest:
    """Validate a request; errors become :class:`RequestError` without echoing values."""
    if isinstance(request, DecideRequest):
        return request
    try:
        return DecideRequest.model_validate(request)
    except ValidationError as exc:
        raise RequestError(
            describe_validation_error(validation_details(exc, DecideRequest))
        ) from None


def build_policy_input(
    context: RequestContext, findings: list[Finding], characters: int
) -> dict[str, Any]:
    """The document a policy sees as ``input`` (ARCHITECTURE.md, policy contract)."""
    return {
        "context": context.model_dump(exclude_none=True),
        "findings": [finding.policy_view() for finding in findings],
        "entity_types": sorted({finding.type for finding in findings}),
        "categories": sorted({finding.category for finding in findings}),
        "content": {"characters": characters, "estimated_tokens": estimate_tokens(characters)},
    }


def rank_endpoints(
    catalog: Catalog,
    segment: Segment,
    result: PolicyResult,
    context: RequestContext,
    characters: int,
    *,
    policy_failed: bool = False,
) -> tuple[list[str], list[ExcludedEndpoint]]:
    """Allowed endpoint ids, cheapest first, and every other endpoint with its reasons."""
    input_tokens = estimate_tokens(characters)
    output_tokens = (
        context.max_output_tokens
        if context.max_output_tokens is not None
        else DEFAULT_OUTPUT_TOKENS
    )
    needed = input_tokens + output_tokens
    by_endpoint: dict[str, list[str]] = defaultdict(list)
    for exclusion in result.excluded:
        by_endpoint[exclusion.endpoint].append(f"{exclusion.rule}: {exclusion.message}")

    allowed: list[tuple[float, str]] = []
    excluded: list[ExcludedEndpoint] = []
    for endpoint in catalog.endpoints:
        reasons: list[str] = []
        if policy_failed:
            reasons.append("policy evaluation failed: provenance could not be checked")
        if not segment.admits(endpoint.deployment):
            reasons.append(f"segment {segment.value}")
        reasons.extend(by_endpoint.get(endpoint.id, []))
        if needed > endpoint.context_window:
            reasons.append(
                f"context window {endpoint.context_window} tokens is too small for about"
                f" {needed} tokens ({input_tokens} in + {output_tokens} out)"
            )
        if reasons:
            excluded.append(ExcludedEndpoint(id=endpoint.id, reasons=reasons))
        else:
            allowed.append((endpoint.estimated_cost(input_tokens, output_tokens), endpoint.id))
    allowed.sort()
    return [endpoint_id for _, endpoint_id in allowed], excluded
