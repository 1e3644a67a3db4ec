"""The HTTP service: ``POST /decide`` (gateway key), ``/healthz``, ``/readyz``, ``/metrics``.

Bad input gets a 4xx whose JSON body (:class:`ErrorBody`) says what was wrong,
naming fields but never echoing values. A decision that could not be audited is
never returned: the client gets 503.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from policy_engine import __version__
from policy_engine.access import KeyRing
from policy_engine.api.audit_routes import router as audit_router
from policy_engine.api.auth import GatewayCaller
from policy_engine.api.keys_routes import router as keys_router
from policy_engine.api.limits import LimitExceeded, RequestLimits, check_limits
from policy_engine.api.openapi import decide_request_body, install_request_schemas
from policy_engine.api.ops import router as ops_router
from policy_engine.api.policies import router as policies_router
from policy_engine.api.policies import wants_explanation
from policy_engine.api.request_context import RequestContextMiddleware
from policy_engine.engine import Engine
from policy_engine.errors import AccessError, AuditError, RequestError
from policy_engine.explain import explain as explain_decision
from policy_engine.logs import get_logger
from policy_engine.metrics import Metrics
from policy_engine.models import DecideRequest, Decision, ErrorBody
from policy_engine.policy.reloader import PolicyReloader
from policy_engine.policy.shadow import shadow_metrics
from policy_engine.validation import describe_validation_error, validation_details

log = get_logger("policy_engine.api")

_ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorBody, "description": description}
    for status, description in {
        400: "Body is not valid JSON, not UTF-8, or nested too deeply",
        401: "No key, or an unknown or revoked key",
        403: "The key's role may not call this",
        413: "Body, content or number of messages larger than the configured limits",
        415: "Content type is not application/json",
        422: "Body is JSON but not a valid request",
        503: "The decision could not be recorded in the audit log",
    }.items()
}


def error(
    status: int, code: str, message: str, details: list[dict[str, Any]] | None = None
) -> JSONResponse:
    body = ErrorBody(error=code, message=message, details=details or [])
    return JSONResponse(status_code=status, content=body.model_dump())


def create_app(
    engine: Engine,
    *,
    max_body_bytes: int = 1024 * 1024,
    keyring: KeyRing | None = None,
    limits: RequestLimits | None = None,
    reloader: PolicyReloader | None = None,
) -> FastAPI:
    """The FastAPI application around an already-built engine.

    ``keyring`` holds the API keys that routes guarded by
    :func:`policy_engine.api.auth.require_role` accept (none: such routes answer 401).
    The app's :class:`Metrics` become the engine's observer.
    ``reloader`` serves ``POST /policies/reload`` (none: it answers 409).
    """
    limits = limits if limits is not None else RequestLimits()
    metrics = Metrics(
        lambda: engine.evaluator.revision, shadow=lambda: shadow_metrics(engine.shadow)
    )
    engine.observer = metrics

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        log.info("service_ready", policy_revision=engine.evaluator.revision)
        yield
        log.info("service_stopping")

    app = FastAPI(
        title="policy-engine",
        version=__version__,
        summary="Decides which LLM endpoints may receive a prompt, and audits every decision.",
        lifespan=lifespan,
    )
    app.state.engine = engine
    app.state.keyring = keyring if keyring is not None else KeyRing()
    app.state.metrics = metrics
    app.include_router(ops_router)
    app.include_router(keys_router)
    install_request_schemas(app)
    app.state.reloader = reloader
    app.include_router(policies_router)

    app.add_middleware(RequestContextMiddleware)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        path = request.url.path
        if exc.status_code == 404:
            message = f"no route {path}; the routes are listed at /docs and /openapi.json"
        elif exc.status_code == 405:
            allowed = (exc.headers or {}).get("Allow", "")
            message = f"{request.method} is not allowed on {path}; use {allowed or 'another'}"
        else:
            message = str(exc.detail)
        response = error(exc.status_code, "http_error", message)
        if exc.headers:
            response.headers.update(exc.headers)
        return response

    @app.exception_handler(AccessError)
    async def access_error(_: Request, exc: AccessError) -> JSONResponse:
        log.info("access_denied", status=exc.status, error=exc.code)
        metrics.auth_failed(exc.status, exc.code)
        response = error(exc.status, exc.code, str(exc))
        if exc.status == 401:
            response.headers["WWW-Authenticate"] = "Bearer"
        return response

    @app.exception_handler(RequestValidationError)
    async def validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
        details = validation_details(exc)
        message = describe_validation_error(details)
        return error(422, "invalid_request", message or "the request is not valid", details)

    @app.exception_handler(Exception)
    async def unexpected_error(_: Request, exc: Exception) -> JSONResponse:
        log.error("unexpected_error", error_type=type(exc).__name__)
        return error(500, "internal_error", "internal error; see the service log")

    @app.post(
        "/decide",
        response_model=Decision,
        responses=_ERROR_RESPONSES,
        openapi_extra=decide_request_body(),
        summary="Decide which endpoints may receive this content",
    )
    async def decide(request: Request, principal: GatewayCaller) -> Response:
        problem = _check_headers(request, max_body_bytes)
        if problem is not None:
            return problem
        explain = wants_explanation(request)
        if isinstance(explain, JSONResponse):
            return explain
        body = await _read_limited(request, max_body_bytes)
        if body is None:
            return error(413, "body_too_large", f"the body exceeds {max_body_bytes} bytes")
        parsed = _parse_json(body)
        if isinstance(parsed, JSONResponse):
            return parsed
        try:
            check_limits(parsed, limits)
        except LimitExceeded as exc:
            return error(exc.status, exc.code, str(exc))
        try:
            decide_request = DecideRequest.model_validate(parsed)
        except ValidationError as exc:
            details = validation_details(exc, DecideRequest)
            return error(422, "invalid_request", describe_validation_error(details), details)
        try:
            decision = await run_in_threadpool(
                engine.decide, decide_request, caller=principal.key_id
            )
        except RequestError as exc:
            return error(422, "invalid_request", str(exc))
        except AuditError:
            log.error("audit_append_failed")
            return error(
                503,
                "audit_unavailable",
                "the decision could not be recorded in the audit log, so none is given;"
                " retry later",
            )
        answer = decision.model_dump(mode="json")
        if explain:
            answer["explanation"] = explain_decision(decision, engine.catalog).model_dump()
        return JSONResponse(answer)

    app.include_router(audit_router)

    @app.get("/healthz", summary="The process is alive")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get(
        "/readyz",
        summary="Models loaded, policies compiled, audit store writable",
        responses={503: {"description": "Not ready: the audit store is not writable"}},
    )
    async def readyz() -> JSONResponse:
        writable = await run_in_threadpool(engine.audit_store.writable)
        checks = {
            "detection": "ok",
            "policies": engine.evaluator.revision,
            "audit_store": "ok" if writable else "not writable",
        }
        status = 200 if writable else 503
        return JSONResponse({"ready": writable, "checks": checks}, status_code=status)

    return app


def _check_headers(request: Request, limit: int) -> JSONResponse | None:
    content_type = request.headers.get("content-type", "")
    media_type = content_type.split(";", 1)[0].strip().lower()
    if media_type != "application/json":
        shown = media_type or "none"
        return error(415, "unsupported_media_type", f"send application/json (got {shown})")
    length = request.headers.get("content-length")
    if length is not None:
        if not length.isdigit():
            return error(400, "bad_content_length", "Content-Length is not a number")
        if int(length) > limit:
            return error(413, "body_too_large", f"the body exceeds {limit} bytes")
    return None


async def _read_limited(request: Request, limit: int) -> bytes | None:
    """The body, or None if it grows past ``limit`` (chunked uploads included)."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def _parse_json(body: bytes) -> Any:
    if not body.strip():
        return error(400, "empty_body", "the body is empty; send a JSON object")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        return error(400, "invalid_utf8", f"the body is not valid UTF-8 (byte {exc.start})")
    try:
        parsed = json.loads(text)
    except RecursionError:
        return error(400, "nesting_too_deep", "the body nests too deeply to parse")
    except json.JSONDecodeError as exc:
        return error(
            400,
            "invalid_json",
            f"the body is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}",
        )
    if not isinstance(parsed, dict):
        return error(422, "invalid_request", "the body must be a JSON object")
    return parsed
