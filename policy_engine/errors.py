"""Exceptions raised by the engine. Every message names the file, setting or rule at fault
and never contains a scanned value.

PolicyEngineError
 ├── ConfigError        a setting, catalog or detector file is invalid (stops start-up)
 ├── DetectionError     a detector failed on a request (the decision fails closed)
 │    └── ScanTimeout       detection passed the request's scan deadline
 ├── PolicyError        policies failed to load, compile or evaluate
 │    └── PolicyLoadError   the policy set could not be loaded or compiled
 ├── AuditError         the audit log could not be written or read
 │    └── DecisionNotRecorded  a decision's record could not be appended: no decision is given
 ├── AccessError        no key, an unknown key, or a key of the wrong role (401/403)
 └── RequestError       the request is invalid (422, with the fields at fault)
      └── LimitExceeded     the request is larger or deeper than the limits allow (4xx)

Errors that reach a caller carry their HTTP ``status`` and ``code``; the API maps them in
one table (:mod:`policy_engine.api.errors`).
"""

from __future__ import annotations


class PolicyEngineError(Exception):
    """Root of every error the engine raises on purpose."""


class ConfigError(PolicyEngineError):
    """A setting, catalog or detector definition is invalid."""


class DetectionError(PolicyEngineError):
    """A detector failed while scanning a request."""


class ScanTimeout(DetectionError):
    """Detection did not finish within the request's deadline."""


class PolicyError(PolicyEngineError):
    """A policy failed to evaluate."""


class PolicyLoadError(PolicyError):
    """A policy set failed to load or compile."""


class AuditError(PolicyEngineError):
    """The audit store failed."""


class DecisionNotRecorded(AuditError):
    """A decision could not be appended to the audit log, so none is given."""


class AccessError(PolicyEngineError):
    """The caller may not do this: ``status`` is 401 (who are you?) or 403 (not allowed)."""

    def __init__(
        self, status: int, code: str, message: str, details: list[dict[str, str]] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.details = details or []


class RequestError(PolicyEngineError):
    """The request is invalid: ``details`` name each field at fault and what is wrong with
    it (``{"field", "problem"}``), never its value."""

    status = 422
    code = "invalid_request"

    def __init__(self, message: str, details: list[dict[str, str]] | None = None) -> None:
        super().__init__(message)
        self.details = details or []


class LimitExceeded(RequestError):
    """The request breaks a shape limit: ``status`` 400 (nesting), 413 (size) or 422
    (an unknown field in strict mode), ``code`` naming the limit."""

    def __init__(
        self, status: int, code: str, message: str, details: list[dict[str, str]] | None = None
    ) -> None:
        super().__init__(message, details)
        self.status = status
        self.code = code
