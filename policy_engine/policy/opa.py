"""The ``opa`` evaluator: a real OPA server (a sidecar) evaluates ``data.segmentation.decision``.

On construction the policy set is pushed to the server with ``opa-python-client``: every
module (YAML policies as their compiled Rego) under the policy id ``policy-engine/<file>``,
modules of an earlier push that are gone are deleted, and the catalog is written to
``data.catalog``. The pushed set must then decide a self-check input, or the evaluator is
refused. Each evaluation is one ``POST /v1/data/segmentation/decision`` with the configured
timeout; a timeout, a transport error, an HTTP error or an undefined/malformed decision raises
:class:`PolicyError`, so the engine fails closed. Messages never quote the input.

Pushing is not atomic on the server, so evaluators of this process share a lock per server:
a push holds it exclusively and evaluations share it, and no request is answered by a
half-pushed set. (Replicas that share one OPA should each have their own sidecar, or load the
bundle from ``policy-engine build`` instead: see docs/policies.md.)
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit

from opa_client import OpaClient

from policy_engine.errors import ConfigError, PolicyError, PolicyLoadError
from policy_engine.models import PolicyResult
from policy_engine.policy.bundle import bundle_module_name
from policy_engine.policy.embedded import DECISION_QUERY, SELF_CHECK_INPUTS, _to_result
from policy_engine.policy.loader import PolicySet

#: Policy ids this engine owns on the server start with this.
POLICY_ID_PREFIX = "policy-engine/"
#: Pushing modules may take longer than one evaluation.
MIN_PUSH_TIMEOUT = 10.0


class _SharedLock:
    """Many readers (evaluations) or one writer (a push)."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._readers = 0
        self._writing = False

    @contextmanager
    def reading(self) -> Iterator[None]:
        with self._cond:
            while self._writing:
                self._cond.wait()
            self._readers += 1
        try:
            yield
        finally:
            with self._cond:
                self._readers -= 1
                self._cond.notify_all()

    @contextmanager
    def writing(self) -> Iterator[None]:
        with self._cond:
            while self._writing or self._readers:
                self._cond.wait()
            self._writing = True
        try:
            yield
        finally:
            with self._cond:
                self._writing = False
                self._cond.notify_all()


_LOCKS: dict[str, _SharedLock] = {}
_LOCKS_GUARD = threading.Lock()
#: The revision this process last pushed to each server (written under the server's lock).
_PUSHED: dict[str, str] = {}


def _lock_for(url: str) -> _SharedLock:
    with _LOCKS_GUARD:
        return _LOCKS.setdefault(url, _SharedLock())


def _client(url: str, timeout: float) -> OpaClient:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"PE_OPA_URL={url}: expected http://HOST:PORT")
    port = parts.port or (443 if parts.scheme == "https" else 8181)
    return OpaClient(
        host=parts.hostname,
        port=port,
        ssl=parts.scheme == "https",
        timeout=timeout,
        retries=0,
    )


class OpaEvaluator:
    """:class:`policy_engine.ports.PolicyEvaluator` on an OPA server. Thread-safe."""

    #: The backend's name (``PE_POLICY_BACKEND``), as ``GET /policies`` shows it.
    backend = "opa"

    def __init__(self, policy_set: PolicySet, url: str, *, timeout: float = 2.0) -> None:
        self._policy_set = policy_set
        self._url = url.rstrip("/")
        self._lock = _lock_for(self._url)
        self._query = _client(self._url, timeout)
        self._admin = _client(self._url, max(timeout, MIN_PUSH_TIMEOUT))
        with self._lock.writing():
            _PUSHED.pop(self._url, None)
            self._push()
            _PUSHED[self._url] = policy_set.revision
            for sample in SELF_CHECK_INPUTS:
                try:
                    self._evaluate(sample)
                except PolicyError as exc:
                    raise PolicyLoadError(f"{self._url}: after the push, {exc}") from None

    @property
    def revision(self) -> str:
        return self._policy_set.revision

    @property
    def policy_set(self) -> PolicySet:
        return self._policy_set

    def evaluate(self, policy_input: Mapping[str, Any]) -> PolicyResult:
        with self._lock.reading():
            if _PUSHED.get(self._url) != self.revision:
                # a newer evaluator pushed its set: this one must not decide in its name
                raise PolicyError(f"the OPA server {self._url} now holds another policy revision")
            return self._evaluate(policy_input)

    def _evaluate(self, policy_input: Mapping[str, Any]) -> PolicyResult:
        try:
            response = self._query.query_rule(dict(policy_input), "segmentation", "decision")
        except Exception as exc:  # requests' timeouts, connection and HTTP errors
            raise PolicyError(
                f"{DECISION_QUERY} on the OPA server {self._url} failed ({type(exc).__name__})"
            ) from None
        if not isinstance(response, dict) or "result" not in response:
            raise PolicyError(f"{DECISION_QUERY} is undefined on the OPA server {self._url}")
        return _to_result(response["result"])

    def _push(self) -> None:
        """Replace this engine's modules and the catalog on the server."""
        wanted = {
            POLICY_ID_PREFIX + bundle_module_name(name): source
            for name, source in sorted(self._policy_set.modules.items())
        }
        try:
            present = self._admin.get_policies_list()
            for policy_id in present:
                if policy_id.startswith(POLICY_ID_PREFIX) and policy_id not in wanted:
                    self._admin.delete_policy(policy_id)
            catalog = self._policy_set.data.get("catalog", {"endpoints": []})
            self._admin.update_or_create_data(catalog, "catalog")
        except Exception as exc:
            raise PolicyLoadError(
                f"{self._url}: cannot reach the OPA server to push policies"
                f" ({type(exc).__name__}); is it running (PE_OPA_URL)?"
            ) from None
        for policy_id, source in wanted.items():
            try:
                self._admin.update_policy_from_string(source, policy_id, rego_compat=False)
            except Exception as exc:
                detail = getattr(exc, "message", None) or type(exc).__name__
                errors = getattr(exc, "errors", None) or []
                where = "; ".join(str(e.get("message", "")) for e in errors if isinstance(e, dict))[
                    :500
                ]
                raise PolicyLoadError(
                    f"{self._url}: OPA refused {policy_id.removeprefix(POLICY_ID_PREFIX)}:"
                    f" {detail}{f' ({where})' if where else ''}"
                ) from None
