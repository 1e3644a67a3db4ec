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
from policy_engine.errors import ConfigError
from policy_engine.logs import ensure_library_logging, get_logger
from policy_engine.observe import DecisionObserver
from policy_engine.policy import EmbeddedEvaluator, PolicySet, load_policy_set
from policy_engine.policy.cache import cached
from policy_engine.policy.entity_uses import unreportable
from policy_engine.policy.reloader import CandidateCheck, PolicyReloader
from policy_engine.policy.shadow import ShadowSlot, build_shadow, shadow_metrics
from policy_engine.ports import PolicyEvaluator
from policy_engine.settings import Settings, load_settings

if TYPE_CHECKING:
    from fastapi import FastAPI

__all__ = [
    "Engine",
    "PolicyParts",
    "build_audit_store",
    "build_engine",
    "build_entity_check",
    "build_policy_parts",
    "build_reloader",
    "build_service",
    "check_litellm_model_map",
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
    hot reload swaps) and the shadow slot (PE_SHADOW_POLICIES_DIR; its candidate changes on
    reload), if any."""

    catalog: Catalog
    policies: ActiveEvaluator
    shadow: ShadowSlot | None


def build_policy_parts(settings: Settings, check: CandidateCheck | None = None) -> PolicyParts:
    """Load PE_CATALOG, PE_POLICIES_DIR (and PE_SHADOW_POLICIES_DIR) and build their
    evaluators; ``settings`` resolved. ``check`` refuses a shadow candidate before its tests
    (default: :func:`build_entity_check`)."""
    catalog = load_catalog(settings.catalog)
    active = serving_evaluator(load_policies(settings, catalog), settings)
    return PolicyParts(catalog, ActiveEvaluator(active), build_shadow_for(settings, catalog, check))


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
        scan_seconds_per_100k=settings.scan_deadline_seconds_per_100k,
        scan_workers=settings.scan_workers,
        observer=observer,
        shadow=parts.shadow,
        skip_later_stages=settings.skip_ner,
        detector_revision=detector_revision,
    )


Engine.builder = build_engine


def build_entity_check(settings: Settings) -> CandidateCheck:
    """Refuses a candidate policy set that uses an entity type the running detectors cannot
    report (:func:`~policy_engine.policy.entity_uses.unreportable`): detectors load once, so
    what they report is read now, from Presidio's built-ins and PE_DETECTORS_DIR."""
    from policy_engine.detection import describe_detectors
    from policy_engine.detection.builtins import BUILTIN_ENTITIES

    def known() -> frozenset[str]:
        found = set(BUILTIN_ENTITIES)
        for info in describe_detectors(settings.detectors_dir):
            found.update(info.entity_types)
        return frozenset(found)

    reportable = known()

    def check(policy_set: PolicySet) -> list[str]:
        try:
            vocabulary = known()  # the detectors on disk now: new types a reload cannot bring
        except ConfigError:
            vocabulary = reportable
        return unreportable(policy_set, reportable, vocabulary)

    return check


def build_shadow_for(
    settings: Settings, catalog: Catalog, check: CandidateCheck | None = None
) -> ShadowSlot | None:
    """Shadow mode on PE_SHADOW_POLICIES_DIR (None when unset). A candidate that is refused
    (it does not load, uses an entity type the detectors cannot report, or fails its tests)
    is logged, and the slot keeps the reason for ``GET /policies/shadow``; a reload tries
    again (a shadow never affects the service)."""
    directory = settings.shadow_policies_dir
    if directory is None:
        return None
    candidate_check = check if check is not None else build_entity_check(settings)
    slot = ShadowSlot(
        directory,
        load=lambda: load_policies(settings, catalog, directory),
        build=lambda policy_set: build_shadow(policy_set, candidate_check),
    )
    slot.retry()
    return slot


def build_reloader(
    policies: ActiveEvaluator,
    catalog: Catalog,
    settings: Settings,
    *,
    shadow: ShadowSlot | None = None,
    check: CandidateCheck | None = None,
) -> PolicyReloader:
    """Hot reload of PE_POLICIES_DIR with the configured evaluator: on SIGHUP, on
    ``POST /policies/reload``, and when PE_POLICIES_WATCH is on, on file changes (of the
    shadow candidate's directory too). Each reload refuses a set that uses an entity type
    the running detectors cannot report (``check``, default :func:`build_entity_check`),
    and retries the shadow candidate."""

    def factory(policy_set: PolicySet) -> PolicyEvaluator:
        return serving_evaluator(policy_set, settings)

    reloader = PolicyReloader(
        policies,
        catalog,
        settings.policies_dir,
        factory,
        check=check if check is not None else build_entity_check(settings),
        shadow=shadow,
    )
    reloader.install_sighup()
    if settings.policies_watch:
        reloader.watch(settings.policies_watch_interval)
    return reloader


def build_service(settings: Settings, keyring: KeyRing) -> FastAPI:
    """The HTTP service on ``settings``: the engine with the service's metrics as its
    observer, hot reload, the audit log's reader, the keys in ``keyring``, the console, and
    the routing proxy (``/v1``, docs/proxy.md)."""
    from policy_engine.api.app import Service, create_app
    from policy_engine.console.config import build_console
    from policy_engine.metrics import Metrics
    from policy_engine.proxy import install_proxy

    settings = settings.resolved()
    check = build_entity_check(settings)
    parts = build_policy_parts(settings, check)
    check_litellm_model_map(settings, parts.catalog)
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
            reloader=build_reloader(
                parts.policies, parts.catalog, settings, shadow=parts.shadow, check=check
            ),
            shadow=parts.shadow,
            max_body_bytes=settings.max_body_bytes,
            console=build_console(settings, parts.catalog),
            litellm_model_map=settings.litellm_model_map,
        )
    )
    install_proxy(app, settings, engine, metrics)
    return app


def check_litellm_model_map(settings: Settings, catalog: Catalog) -> None:
    """Stop start-up when PE_LITELLM_MODEL_MAP maps a model group to an id the catalog
    does not have (every call to that group would be blocked)."""
    unknown = sorted({e for e in settings.litellm_model_map.values() if catalog.by_id(e) is None})
    if unknown:
        raise ConfigError(
            f"PE_LITELLM_MODEL_MAP: {', '.join(unknown)} not in the catalog ({settings.catalog})"
        )
