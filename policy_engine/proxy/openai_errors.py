"""Errors of the routing proxy, in the shape OpenAI clients expect.

Every answer that is not a completion is ``{"error": {"message", "type", "code",
"param"}}`` with the status the OpenAI SDK maps to its exception classes. Messages name the
decision id, the rules and the endpoints at stake, never a scanned value.
"""

from __future__ import annotations

from collections.abc import Mapping

from fastapi.responses import JSONResponse

from policy_engine.api.errors import answer_of
from policy_engine.errors import AccessError, AuditError, PolicyEngineError, RequestError

#: The OpenAI error ``type`` of each kind of answer.
TYPE_BY_STATUS = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "invalid_request_error",
    413: "invalid_request_error",
    415: "invalid_request_error",
    422: "invalid_request_error",
}


class ProxyError(Exception):
    """An answer of the proxy that is not a completion: status, OpenAI ``type`` and
    ``code``, a message for people (never a value), and the request field at fault
    (``param``) when there is one."""

    def __init__(
        self, status: int, error_type: str, code: str, message: str, param: str | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.error_type = error_type
        self.code = code
        self.param = param


class ChatRequestError(RequestError):
    """The body is not a chat completion request the proxy can take (400)."""

    status = 400
    code = "invalid_request"


def error_response(error: ProxyError, headers: Mapping[str, str] | None = None) -> JSONResponse:
    body = {
        "error": {
            "message": str(error),
            "type": error.error_type,
            "code": error.code,
            "param": error.param,
        }
    }
    return JSONResponse(status_code=error.status, content=body, headers=dict(headers or {}))


def from_engine_error(exc: PolicyEngineError) -> ProxyError:
    """The proxy's answer to an error of the service (access, request, audit): the status,
    code and message the service gives it (:func:`policy_engine.api.errors.answer_of`)."""
    status, code, message = answer_of(exc)
    if isinstance(exc, AuditError):
        return ProxyError(status, "server_error", code, message + "; nothing was forwarded")
    if isinstance(exc, AccessError | RequestError):
        details = exc.details if isinstance(exc, RequestError) else []
        fields = [detail.get("field") for detail in details]
        return ProxyError(
            status,
            TYPE_BY_STATUS.get(status, "invalid_request_error"),
            code,
            message,
            param=fields[0] if len(fields) == 1 and fields[0] != "body" else None,
        )
    return ProxyError(500, "server_error", "internal_error", "internal error; see the service log")
