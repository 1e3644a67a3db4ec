"""The delivery record: what became of a decision the proxy acted on, appended to the
same hash chain as the decision (docs/proxy.md, "The delivery record").

It is appended when the upstream exchange has ended (the answer was sent, the stream
finished, or every attempt failed), in a worker thread, after the answer. The decision
record was appended before anything left; if the delivery record cannot be appended, the
decision still stands: the failure is logged and counted
(``policy_engine_delivery_record_failures``).
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError
from ulid import ULID

from policy_engine.decision import routing_tier
from policy_engine.errors import AuditError
from policy_engine.logs import get_logger
from policy_engine.metrics import Metrics
from policy_engine.ports import AuditLog
from policy_engine.records import Attempt, AuditRecord, Delivery, Usage

log = get_logger("policy_engine.proxy")


def parse_usage(value: Any) -> Usage | None:
    """An upstream's ``usage`` object, or None when it gave none (or a malformed one)."""
    if not isinstance(value, dict):
        return None
    try:
        return Usage.model_validate(value)
    except ValidationError:
        return None


@dataclass
class Exchange:
    """What one proxied request observed, filled in as it goes."""

    decided: AuditRecord
    stream: bool
    masked_types: list[str]
    started: float = field(default_factory=time.perf_counter)
    attempts: list[Attempt] = field(default_factory=list)
    endpoint: str | None = None
    upstream_model: str | None = None
    usage: Usage | None = None

    def delivery(self) -> Delivery:
        decided = self.decided
        return Delivery(
            endpoint=self.endpoint,
            upstream_model=self.upstream_model,
            attempts=self.attempts,
            usage=self.usage,
            stream=self.stream,
            masked_types=self.masked_types,
            tier=routing_tier(decided.context, decided.obligations),
        )


@dataclass(frozen=True)
class DeliveryRecorder:
    """Appends delivery records to the engine's audit log."""

    audit_log: AuditLog
    metrics: Metrics | None = None

    def record(self, exchange: Exchange) -> AuditRecord | None:
        """Append the exchange's delivery record (None when the log refused it)."""
        latency = round((time.perf_counter() - exchange.started) * 1000, 3)
        record = exchange.decided.delivered(
            exchange.delivery(), decision_id=str(ULID()), latency_ms=latency
        )
        try:
            appended = self.audit_log.append(record)
        except AuditError as exc:
            if self.metrics is not None:
                self.metrics.delivery_record_failures.inc()
            log.error(
                "delivery_record_failed",
                decision_id=exchange.decided.decision_id,
                error_type=type(exc).__name__,
            )
            return None
        log.info(
            "delivered",
            decision_id=exchange.decided.decision_id,
            delivery_id=appended.decision_id,
            endpoint=exchange.endpoint,
            attempts=[a.result for a in exchange.attempts],
            masked_types=exchange.masked_types,
        )
        return appended

    def record_later(self, exchange: Exchange) -> None:
        """Append in a worker thread, without waiting (safe in a cancelled stream too)."""
        asyncio.get_running_loop().run_in_executor(None, self.record, exchange)
