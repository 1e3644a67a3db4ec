"""The upstreams the proxy calls: where each catalog endpoint's requests go, and the HTTP
client (httpx, async, with timeouts) that calls them.

Each call ends in one :class:`~policy_engine.records.Attempt` result: ``ok``, ``http_429``,
``http_5xx``, ``http_4xx``, ``timeout`` or ``connection_error``. The first four answers
and ``timeout``/``connection_error`` before any byte reached the client may be retried on
another allowed endpoint (:mod:`.fallback`); ``http_4xx`` is the request's own fault.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any

import httpx

from policy_engine.catalog import Catalog
from policy_engine.logs import get_logger
from policy_engine.records import Attempt, AttemptResult
from policy_engine.settings import Settings, environment_secrets

log = get_logger("policy_engine.proxy")

#: Results after which the next allowed endpoint is tried.
RETRYABLE: frozenset[AttemptResult] = frozenset(
    {"http_429", "http_5xx", "timeout", "connection_error"}
)


@dataclass(frozen=True)
class Target:
    """Where one catalog endpoint's requests go."""

    endpoint: str
    vendor: str
    url: str
    model: str
    headers: dict[str, str] = field(repr=False)


def build_targets(catalog: Catalog, settings: Settings) -> dict[str, Target]:
    """The routable endpoints: every endpoint at PE_UPSTREAM_BASE_URL when it is set, else
    those with a catalog ``upstream`` (their keys read from ``api_key_env`` at start)."""
    named = [e.upstream.api_key_env for e in catalog.endpoints if e.upstream is not None]
    keys = environment_secrets(name for name in named if name)
    targets: dict[str, Target] = {}
    missing: dict[str, str] = {}
    for endpoint in catalog.endpoints:
        upstream = endpoint.upstream
        if settings.upstream_base_url is not None:
            base, key = settings.upstream_base_url, settings.upstream_api_key
        elif upstream is not None:
            base, key = upstream.base_url, keys.get(upstream.api_key_env or "")
            if upstream.api_key_env and key is None:
                missing[endpoint.id] = upstream.api_key_env
        else:
            continue
        model = upstream.model if upstream is not None and upstream.model else endpoint.model
        headers = {"authorization": f"Bearer {key}"} if key else {}
        url = base.rstrip("/") + "/chat/completions"
        targets[endpoint.id] = Target(endpoint.id, endpoint.vendor, url, model, headers)
    if missing:  # one line for all: a first start has none of them, and needs none for /decide
        log.warning(
            "upstream_key_missing",
            endpoints=sorted(missing),
            variables=sorted(set(missing.values())),
            hint="the routing proxy (/v1) calls these endpoints without an API key; set the"
            " variables, or PE_UPSTREAM_BASE_URL for one OpenAI-compatible server."
            " POST /decide does not need them",
        )
    return targets


@dataclass
class Called:
    """One upstream call: its attempt and, when it succeeded, the open response (a stream
    to relay) or the answer read (``body``)."""

    attempt: Attempt
    response: httpx.Response | None = None
    body: bytes | None = None
    #: ``error.code`` (or ``type``) of an upstream's error answer, when it gave one.
    upstream_code: str | None = None
    started: float = 0.0

    @property
    def ok(self) -> bool:
        return self.attempt.result == "ok"


class UpstreamClient:
    """Calls upstreams; one connection pool for the process, made on the first call (making
    it loads the TLS trust store: about 0.1 s that a service start need not wait for)."""

    def __init__(self, *, connect_timeout: float, timeout: float) -> None:
        self._timeout = httpx.Timeout(timeout, connect=connect_timeout)
        self._http: httpx.AsyncClient | None = None

    @property
    def http(self) -> httpx.AsyncClient:
        """The connection pool (made on first use)."""
        if self._http is None:
            self._http = httpx.AsyncClient(
                timeout=self._timeout,
                limits=httpx.Limits(max_connections=256, max_keepalive_connections=64),
            )
        return self._http

    async def call(self, target: Target, body: dict[str, Any], *, stream: bool) -> Called:
        """Send ``body``; for a stream return as soon as the answer's headers came (the
        response stays open), else read the whole answer."""
        started = time.perf_counter()
        request = self.http.build_request("POST", target.url, json=body, headers=target.headers)
        try:
            response = await self.http.send(request, stream=True)
        except httpx.TimeoutException:
            return _failed(target, "timeout", None, started)
        except httpx.HTTPError:
            return _failed(target, "connection_error", None, started)
        if response.status_code != 200:
            try:
                detail = await response.aread()
            except httpx.HTTPError:
                detail = b""
            finally:
                await response.aclose()
            called = _failed(
                target, _result_of(response.status_code), response.status_code, started
            )
            called.upstream_code = _error_code(detail)
            return called
        if stream:
            return Called(_attempt(target, "ok", 200, started), response=response, started=started)
        try:
            body_bytes = await response.aread()
        except httpx.TimeoutException:
            return _failed(target, "timeout", 200, started)
        except httpx.HTTPError:
            return _failed(target, "connection_error", 200, started)
        finally:
            await response.aclose()
        return Called(_attempt(target, "ok", 200, started), body=body_bytes, started=started)

    async def close(self) -> None:
        if self._http is not None:
            await self._http.aclose()


def _result_of(status: int) -> AttemptResult:
    if status == 429:
        return "http_429"
    return "http_5xx" if status >= 500 else "http_4xx"


def _attempt(target: Target, result: AttemptResult, status: int | None, started: float) -> Attempt:
    latency = round((time.perf_counter() - started) * 1000, 3)
    return Attempt(endpoint=target.endpoint, result=result, status=status, latency_ms=latency)


def _failed(target: Target, result: AttemptResult, status: int | None, started: float) -> Called:
    return Called(_attempt(target, result, status, started), started=started)


def _error_code(detail: bytes) -> str | None:
    """An upstream error answer's ``error.code`` or ``error.type`` when it is a short
    identifier (never its message: that may quote the request)."""
    try:
        error = json.loads(detail).get("error")
    except (ValueError, AttributeError):
        return None
    for key in ("code", "type"):
        value = error.get(key) if isinstance(error, dict) else None
        if isinstance(value, str) and value.replace("_", "").isalnum() and len(value) <= 64:
            return value
    return None
