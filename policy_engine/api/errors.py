"""Every error answer of the API: one JSON shape (:class:`ErrorBody`) and one table from
error class to status (:data:`ERROR_ANSWERS`).

Routes raise; the handlers installed by :func:`install_error_handlers` answer. Bodies name
fields and limits, never values; an unexpected exception is a 500 that says to look at the
service log, never a stack trace.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from policy_engine.errors import AccessError, AuditError, DecisionNotRecorded, RequestError
from policy_engine.logs import get_logger
from policy_engine.models import ErrorBody
from policy_engine.validation import describe_validation_error, validation_details

log = get_logger("policy_engine.api")

#: The answer to each domain error a route lets through: ``(status, error code, message)``;
#: None where the exception carries its own status, code and message (its ``status`` and
#: ``code`` attributes and its text). The most specific class listed wins.
ERROR_ANSWERS: dict[type[Exception], tuple[int, str, str] | None] = {
    RequestError: None,  # 422 invalid_request with details, or a LimitExceeded's own
    AccessError: None,  # 401 or 403
    DecisionNotRecorded: (
        503,
        "audit_unavailable",
        "the decision could not be recorded in the audit log, so none is given; retry later",
    ),
    AuditError: (503, "audit_unavailable", "the audit log cannot be read now; retry later"),
}

#: OpenAPI descriptions of the error answers of ``POST /decide``-like routes.
BODY_ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
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


def answer_of(exc: Exception) -> tuple[int, str, str]:
    """The status, error code and message :data:`ERROR_ANSWERS` gives ``exc``."""
    for kind in type(exc).__mro__:
        if kind in ERROR_ANSWERS:
            fixed = ERROR_ANSWERS[kind]
            if fixed is not None:
                return fixed
            return int(getattr(exc, "status")), str(getattr(exc, "code")), str(exc)  # noqa: B009
    return 500, "internal_error", "internal error; see the service log"


def install_error_handlers(app: FastAPI, on_access_denied: Any = None) -> None:
    """Answer every error raised by a route in the one shape; ``on_access_denied`` is told
    the status and code of each refused key (the metrics)."""

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

    @app.exception_handler(RequestValidationError)
    async def validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
        details = validation_details(exc)
        message = describe_validation_error(details)
        return error(422, "invalid_request", message or "the request is not valid", details)

    @app.exception_handler(AccessError)
    async def access_error(_: Request, exc: AccessError) -> JSONResponse:
        log.info("access_denied", status=exc.status, error=exc.code)
        if on_access_denied is not None:
            on_access_denied(exc.status, exc.code)
        response = error(exc.status, exc.code, str(exc), exc.details)
        if exc.status == 401:
            response.headers["WWW-Authenticate"] = "Bearer"
        return response

    @app.exception_handler(RequestError)
    async def request_error(_: Request, exc: RequestError) -> JSONResponse:
        return error(*answer_of(exc), exc.details)

    @app.exception_handler(AuditError)
    async def audit_error(request: Request, exc: AuditError) -> JSONResponse:
        log.error("audit_failed", path=request.url.path, error_type=type(exc).__name__)
        return error(*answer_of(exc))

    @app.exception_handler(Exception)
    async def unexpected_error(_: Request, exc: Exception) -> JSONResponse:
        log.error("unexpected_error", error_type=type(exc).__name__)
        return error(500, "internal_error", "internal error; see the service log")
