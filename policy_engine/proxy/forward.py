"""Acting on a decision: mask, call the planned endpoints (one fallback at most), relay the
answer with the decision's headers, and leave a delivery record.

Nothing is sent upstream before the decision record is in the log (the route decides
first), and nothing goes to an endpoint outside the decision's ``allowed_endpoints``
(:func:`.plan.plan_route`).
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

import httpx
from fastapi.responses import JSONResponse, Response, StreamingResponse
from starlette.background import BackgroundTask

from policy_engine.metrics import Metrics
from policy_engine.proxy.chat_request import ChatCall
from policy_engine.proxy.delivery import DeliveryRecorder, Exchange, parse_usage
from policy_engine.proxy.masking import (
    Masking,
    MaskingError,
    conversation_key,
    mask_messages,
    redacted_types,
)
from policy_engine.proxy.openai_errors import ProxyError, error_response
from policy_engine.proxy.plan import POLICY_ERROR, plan_route
from policy_engine.proxy.relay import EventRelay
from policy_engine.proxy.split_restore import SplitRestorer
from policy_engine.proxy.sticky import Conversations
from policy_engine.proxy.upstreams import RETRYABLE, Called, Target, UpstreamClient
from policy_engine.records import AuditRecord

DECISION_HEADER = "x-policy-engine-decision-id"
ENDPOINT_HEADER = "x-policy-engine-endpoint"
SEGMENT_HEADER = "x-policy-engine-segment"
#: Upstream answers passed on with their status (the request's fault); other 4xx are 502.
_CLIENT_FAULTS = frozenset({400, 404, 413, 422})


def decision_headers(decided: AuditRecord, endpoint: str | None = None) -> dict[str, str]:
    headers = {DECISION_HEADER: decided.decision_id, SEGMENT_HEADER: decided.segment.value}
    if endpoint is not None:
        headers[ENDPOINT_HEADER] = endpoint
    return headers


@dataclass
class Proxy:
    """What the proxy's routes run on (built once by :func:`policy_engine.proxy.install_proxy`)."""

    targets: dict[str, Target]
    client: UpstreamClient
    conversations: Conversations
    recorder: DeliveryRecorder
    #: The engine's keyed digest (what located values are checked against).
    digest: Callable[[str], str]
    metrics: Metrics | None = None
    #: Made at start-up, never stored: the root of the conversations' placeholder keys.
    mask_secret: bytes = field(default_factory=lambda: os.urandom(32), repr=False)

    async def forward(self, call: ChatCall, decided: AuditRecord) -> Response:
        """The client's answer to a decided request (a completion, a stream or an error)."""
        try:
            sticky = self.conversations.endpoint(call.conversation)
            plan = plan_route(decided, call.requested_endpoint, self.targets, sticky)
            masking, messages = self._masked(call, decided)
        except ProxyError as refusal:
            return error_response(refusal, decision_headers(decided))
        exchange = Exchange(decided, call.stream, sorted(masking.types))
        called: Called | None = None
        for endpoint in plan:
            target = self.targets[endpoint]
            exchange.upstream_model = target.model
            called = await self.client.call(
                target, call.upstream_body(target.model, messages), stream=call.stream
            )
            self._count(called)
            exchange.attempts.append(called.attempt)
            if called.ok or called.attempt.result not in RETRYABLE:
                break
        assert called is not None  # a plan has at least one endpoint
        if not called.ok:
            task = BackgroundTask(self.recorder.record, exchange)
            failure = upstream_failure(decided, exchange, called)
            response = error_response(failure, decision_headers(decided))
            response.background = task
            return response
        exchange.endpoint = called.attempt.endpoint
        self.conversations.remember(call.conversation, called.attempt.endpoint)
        headers = decision_headers(decided, called.attempt.endpoint)
        if called.response is not None:
            relay = EventRelay(
                SplitRestorer(masking) if masking.values else None, wants_usage=call.wants_usage
            )
            return StreamingResponse(
                self._relay(called, relay, exchange),
                headers=headers,
                media_type=called.response.headers.get("content-type", "text/event-stream"),
            )
        return self._answer(called.body or b"", masking, exchange, headers)

    def _masked(self, call: ChatCall, decided: AuditRecord) -> tuple[Masking, list[object]]:
        masking = Masking(conversation_key(self.mask_secret, call.conversation))
        messages = call.body["messages"]
        types = redacted_types(decided.obligations)
        if not types:
            return masking, messages
        try:
            masked = mask_messages(messages, decided.findings, types, masking, self.digest)
            return masking, masked
        except MaskingError as exc:
            raise ProxyError(
                403,
                POLICY_ERROR,
                "obligation_unsupported",
                f"decision {decided.decision_id} requires masking ({', '.join(sorted(types))})"
                f" and {exc}; nothing was forwarded",
            ) from None

    def _answer(
        self, body: bytes, masking: Masking, exchange: Exchange, headers: dict[str, str]
    ) -> Response:
        """The upstream's answer as it came (restored and re-encoded only when masked)."""
        task = BackgroundTask(self.recorder.record, exchange)
        try:
            document = json.loads(body)
        except ValueError:
            document = None
        if isinstance(document, dict):
            exchange.usage = parse_usage(document.get("usage"))
            if masking.values and "choices" in document:
                document["choices"] = masking.restore_document(document["choices"])
                return JSONResponse(document, headers=headers, background=task)
        return Response(body, media_type="application/json", headers=headers, background=task)

    async def _relay(
        self, called: Called, relay: EventRelay, exchange: Exchange
    ) -> AsyncIterator[bytes]:
        response = called.response
        assert response is not None
        try:
            async for data in response.aiter_raw():
                for event in relay.feed(data):
                    yield event
            for event in relay.finish():
                yield event
        except httpx.TimeoutException:  # the upstream stopped sending mid-stream
            called.attempt.result = "timeout"
            self._count(called)
        except httpx.HTTPError:  # the upstream broke off mid-stream
            called.attempt.result = "connection_error"
            self._count(called)
        finally:
            await response.aclose()
            exchange.usage = relay.usage
            called.attempt.latency_ms = round((time.perf_counter() - called.started) * 1000, 3)
            self.recorder.record_later(exchange)

    def _count(self, called: Called) -> None:
        if self.metrics is not None:
            self.metrics.upstream_attempts.labels(
                called.attempt.endpoint, called.attempt.result
            ).inc()


def upstream_failure(decided: AuditRecord, exchange: Exchange, called: Called) -> ProxyError:
    """The error answer when no upstream answered: 504 after a timeout, the upstream's own
    status for a request it found faulty, else 502."""
    tried = ", ".join(f"{a.endpoint}: {a.result}" for a in exchange.attempts)
    about = f"decision {decided.decision_id}; attempts: {tried}"
    status = called.attempt.status
    if called.attempt.result == "timeout":
        return ProxyError(
            504, "upstream_error", "upstream_timeout", f"no upstream answered in time ({about})"
        )
    if called.attempt.result == "http_4xx" and status in _CLIENT_FAULTS:
        code = called.upstream_code or "upstream_rejected_request"
        return ProxyError(
            status, "invalid_request_error", code, f"the upstream refused the request ({about})"
        )
    return ProxyError(
        502, "upstream_error", "upstream_unavailable", f"no upstream answered ({about})"
    )
