"""The composition root: settings in, a wired :class:`Engine` (or the whole service) out.

Everything is built here, once, and passed in: the detector, the active policy evaluator
(and the reloader that swaps it), the shadow policy set, the audit store (the engine
writes to it as an :class:`~policy_engine.ports.AuditLog`, the API reads it as an
:class:`~policy_engine.ports.AuditReader`), the observer. Registries of implementations
are explicit dicts (kind → factory). The Python API (:func:`build_engine`, also
``Engine.from_settings``), the CLI and the service (:func:`build_service`) all start here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from policy_engine.access import KeyRing
from policy_engine.audit.checkpoints import CheckpointPolicy
from policy_engine.audit.signing import load_or_create_signer
from policy_engine.audit.sql_store import SqlAuditStore
from policy_engine.audit.stores import open_audit_store
from policy_engine.catalog import Catalog, load_catalog
from policy_engine.detection import build_detector_with_revision
from policy_engine.digest import Digester, load_or_create_key
from policy_engine.engine import ActiveEvaluator, Engine
from policy_engine.errors import PolicyEngineError
from policy_engine.logs import ensure_library_logging, get_logger
from policy_engine.observe import DecisionObserver
from policy_engine.policy import EmbeddedEvaluator, PolicySet, load_policy_set
from policy_engine.policy.cache import cached
from policy_engine.policy.reloader import PolicyReloader
from policy_engine.policy.shadow import ShadowEvaluator, build_shadow, shadow_metrics
from policy_engine.ports import PolicyEvaluator
from policy_engine.settings import Settings, load_settings

if TYPE_CHECKING:
    from fastapi import FastAPI

__all__ = [
    "Engine",
    "PolicyParts",
    "build_audit_store",
    "build_engine",
    "build_policy_parts",
    "build_reloader",
    "build_service",
    "load_policies",
    "serving_evaluator",
]

log = get_logger("policy_engine.bootstrap")

POLICY_EVALUATORS: dict[str, Callable[[PolicySet, Settings], PolicyEvaluator]] = {
    "embedded": lambda policy_set, settings: EmbeddedEvaluator(policy_set),
    "opa": lambda policy_set, settings: _opa_evaluator(policy_set, settings),
}


def _opa_evaluator(policy_set: PolicySet, settings: Settings) -> PolicyEvaluator:
    from policy_engine.policy.opa import OpaEvaluator  # imports an HTTP client: only when used

    return OpaEvaluator(policy_set, settings.opa_url, timeout=settings.opa_timeout)


def build_audit_store(settings: Settings, *, signing: bool = True) -> SqlAuditStore:
    """The configured store (``PE_AUDIT_URL``, see :mod:`policy_engine.audit.stores`); with
    ``signing`` it signs checkpoints (the key is created on first use). Readers
    (``audit verify``, ``query`` …) open it without signing."""
    signer = load_or_create_signer(settings.audit_signing_key_file) if signing else None
    policy = CheckpointPolicy(every=settings.checkpoint_every, seconds=settings.checkpoint_seconds)
    store = open_audit_store(settings.audit_url, signer, policy)
    store.start_checkpoint_timer()
    return store


def load_policies(
    settings: Settings, catalog: Catalog, policies_dir: Path | None = None
) -> PolicySet:
    """Load ``policies_dir`` (default PE_POLICIES_DIR) with the catalog as data."""
    directory = settings.policies_dir if policies_dir is None else policies_dir
    return load_policy_set(directory, {"catalog": catalog.policy_data()})


#: Backends whose results may be cached: in-process ones. An OPA server may change its
#: policies without this service knowing (bundle polling), and when it is down a decision
#: must fail closed rather than come from memory.
CACHEABLE_BACKENDS = frozenset({"embedded"})


def serving_evaluator(policy_set: PolicySet, settings: Settings) -> PolicyEvaluator:
    """The configured evaluator on ``policy_set``, for an embedded backend behind a result
    cache of PE_POLICY_CACHE_SIZE decisions (none when 0): what the engine decides with."""
    evaluator = POLICY_EVALUATORS[settings.policy_backend](policy_set, settings)
    if settings.policy_backend not in CACHEABLE_BACKENDS:
        return evaluator
    return cached(evaluator, policy_set, settings.policy_cache_size)


@dataclass(frozen=True)
class PolicyParts:
    """The catalog and the policy sets decisions are made with: the active evaluator (which
    hot reload swaps) and the shadow candidate, if any."""

    catalog: Catalog
    policies: ActiveEvaluator
    shadow: ShadowEvaluator | None


def build_policy_parts(settings: Settings) -> PolicyParts:
    """Load PE_CATALOG, PE_POLICIES_DIR (and PE_SHADOW_POLICIES_DIR) and build their
    evaluators; ``settings`` resolved."""
    catalog = load_catalog(settings.catalog)
    active = serving_evaluator(load_policies(settings, catalog), settings)
    return PolicyParts(catalog, ActiveEvaluator(active), build_shadow_for(settings, catalog))


def build_engine(
    settings: Settings | None = None,
    *,
    observer: DecisionObserver | None = None,
    parts: PolicyParts | None = None,
) -> Engine:
    """Load catalog, policies, detectors and the audit store; fail fast on bad configuration.

    ``observer`` sees every decision (the service's metrics); ``parts`` when the caller
    built them already (the service shares them with its reloader and metrics).
    """
    ensure_library_logging()
    settings = load_settings() if settings is None else settings.resolved()
    parts = parts if parts is not None else build_policy_parts(settings)
    detector, detector_revision = build_detector_with_revision(
        settings.detectors_dir,
        backend=settings.detection_backend,
        cache_size=settings.finding_cache_size,
        compiled_cache_dir=settings.compiled_cache_dir,
    )
    return Engine(
        detector=detector,
        evaluator=parts.policies,
        catalog=parts.catalog,
        audit_log=build_audit_store(settings),
        digester=Digester(load_or_create_key(settings.hmac_key_file)),
        limits=settings.request_limits,
        scan_deadline_seconds=settings.scan_deadline_seconds,
        scan_workers=settings.scan_workers,
        observer=observer,
        shadow=parts.shadow,
        skip_later_stages=settings.skip_ner,
        detector_revision=detector_revision,
    )


Engine.builder = build_engine


def build_shadow_for(settings: Settings, catalog: Catalog) -> ShadowEvaluator | None:
    """Shadow mode on PE_SHADOW_POLICIES_DIR (None when unset); a candidate that fails is
    logged and left out (a shadow never affects the service)."""
    if settings.shadow_policies_dir is None:
        return None
    try:
        return build_shadow(load_policies(settings, catalog, settings.shadow_policies_dir))
    except PolicyEngineError as exc:
        log.error("shadow_disabled", directory=str(settings.shadow_policies_dir), error=str(exc))
        return None


def build_reloader(
    policies: ActiveEvaluator, catalog: Catalog, settings: Settings
) -> PolicyReloader:
    """Hot reload of PE_POLICIES_DIR with the configured evaluator: on SIGHUP, on
    ``POST /policies/reload``, and when PE_POLICIES_WATCH is on, on file changes."""

    def factory(policy_set: PolicySet) -> PolicyEvaluator:
        return serving_evaluator(policy_set, settings)

    reloader = PolicyReloader(policies, catalog, settings.policies_dir, factory)
    reloader.install_sighup()
    if settings.policies_watch:
        reloader.watch(settings.policies_watch_interval)
    return reloader


def build_service(settings: Settings, keyring: KeyRing) -> FastAPI:
    """The HTTP service on ``settings``: the engine with the service's metrics as its
    observer, hot reload, the audit log's reader, the keys in ``keyring``, and the routing
    proxy (``/v1``, docs/proxy.md)."""
    from policy_engine.api.app import Service, create_app
    from policy_engine.metrics import Metrics
    from policy_engine.proxy import install_proxy

    settings = settings.resolved()
    parts = build_policy_parts(settings)
    metrics = Metrics(lambda: parts.policies.revision, shadow=lambda: shadow_metrics(parts.shadow))
    engine = build_engine(settings, observer=metrics, parts=parts)
    store = engine.audit_log
    assert isinstance(store, SqlAuditStore)  # build_audit_store's: a reader too
    app = create_app(
        Service(
            engine=engine,
            reader=store,
            keyring=keyring,
            metrics=metrics,
            reloader=build_reloader(parts.policies, parts.catalog, settings),
            shadow=parts.shadow,
            max_body_bytes=settings.max_body_bytes,
        )
    )
    install_proxy(app, settings, engine, metrics)
    return app
