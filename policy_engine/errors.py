"""Exceptions raised by the engine. Every message names the file, setting or rule at fault
and never contains a scanned value.

PolicyEngineError
 ├── ConfigError        a setting, catalog or detector file is invalid (stops start-up)
 ├── DetectionError     a detector failed on a request (the decision fails closed)
 │    └── ScanTimeout       detection passed the request's scan deadline
 ├── PolicyError        policies failed to load, compile or evaluate
 │    └── PolicyLoadError   the policy set could not be loaded or compiled
 ├── AuditError         the audit log could not be written or read (no decision is given)
 ├── AccessError        no key, an unknown key, or a key of the wrong role (401/403)
 └── RequestError       the request is invalid (the API answers 4xx)
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


class AccessError(PolicyEngineError):
    """The caller may not do this: ``status`` is 401 (who are you?) or 403 (not allowed)."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code


class RequestError(PolicyEngineError):
    """The request is invalid."""
