"""What the HTTP service runs on, built once by the composition root
(:func:`policy_engine.bootstrap.build_service`) and read by every route."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from starlette.requests import HTTPConnection

from policy_engine.access import KeyRing
from policy_engine.engine import Engine
from policy_engine.metrics import Metrics
from policy_engine.policy.reloader import PolicyReloader
from policy_engine.policy.shadow import ShadowSlot
from policy_engine.ports import AuditReader

if TYPE_CHECKING:
    from policy_engine.console.config import ConsoleConfig


@dataclass(frozen=True)
class Service:
    """The engine (gateways' routes), the audit log's reader (auditors' routes), the keys,
    the metrics, hot reload (None: ``POST /policies/reload`` answers 409), the shadow
    policy set (None: off), the console's parts (None: ``/ui`` says it is off) and
    LiteLLM's model group -> catalog id map (``PE_LITELLM_MODEL_MAP``)."""

    engine: Engine
    reader: AuditReader
    keyring: KeyRing = field(default_factory=KeyRing)
    metrics: Metrics | None = None
    reloader: PolicyReloader | None = None
    shadow: ShadowSlot | None = None
    max_body_bytes: int = 1024 * 1024
    console: ConsoleConfig | None = None
    litellm_model_map: Mapping[str, str] = field(default_factory=dict)


def service_of(connection: HTTPConnection) -> Service:
    """The :class:`Service` of the app serving ``connection``."""
    service: Service = connection.app.state.service
    return service
