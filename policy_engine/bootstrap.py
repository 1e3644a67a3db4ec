"""The composition root: settings in, a wired :class:`Engine` out.

Registries of implementations are explicit dicts (kind → factory); the service,
the CLI and the Python API all call :func:`build_engine`.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from policy_engine.audit import SQLiteAuditStore
from policy_engine.audit.checkpoints import CheckpointPolicy
from policy_engine.audit.signing import Signer, load_or_create_signer
from policy_engine.audit.sql_store import SqlAuditStore
from policy_engine.catalog import Catalog, load_catalog
from policy_engine.detection import build_detector
from policy_engine.digest import Digester, load_or_create_key
from policy_engine.engine import Engine
from policy_engine.errors import ConfigError, PolicyEngineError
from policy_engine.logs import ensure_library_logging, get_logger
from policy_engine.policy import EmbeddedEvaluator, PolicySet, load_policy_set
from policy_engine.policy.cache import cached
from policy_engine.policy.reloader import PolicyReloader
from policy_engine.policy.shadow import ShadowEvaluator, build_shadow
from policy_engine.ports import AuditStore, PolicyEvaluator
from policy_engine.settings import Settings, load_settings

log = get_logger("policy_engine.bootstrap")

AuditStoreFactory = Callable[[Settings, Signer | None, CheckpointPolicy], AuditStore]


def _postgres_store(
    settings: Settings, signer: Signer | None, policy: CheckpointPolicy
) -> AuditStore:
    from policy_engine.audit.postgres_store import PostgresAuditStore  # psycopg: only when used

    return PostgresAuditStore(settings.audit_url, signer=signer, checkpoint_policy=policy)


AUDIT_STORES: dict[str, AuditStoreFactory] = {
    "sqlite": lambda settings, signer, policy: SQLiteAuditStore(
        settings.audit_path, signer=signer, checkpoint_policy=policy
    ),
    "postgresql": _postgres_store,
    "postgres": _postgres_store,
}

POLICY_EVALUATORS: dict[str, Callable[[PolicySet, Settings], PolicyEvaluator]] = {
    "embedded": lambda policy_set, settings: EmbeddedEvaluator(policy_set),
    "opa": lambda policy_set, settings: _opa_evaluator(policy_set, settings),
}


def _opa_evaluator(policy_set: PolicySet, settings: Settings) -> PolicyEvaluator:
    from policy_engine.policy.opa import OpaEvaluator  # imports an HTTP client: only when used

    return OpaEvaluator(policy_set, settings.opa_url, timeout=settings.opa_timeout)


def build_audit_store(settings: Settings, *, signing: bool = True) -> AuditStore:
    """The configured store; with ``signing`` it signs checkpoints (the key is created
    on first use). Readers (``audit verify``, ``query`` …) open it without signing."""
    scheme = settings.audit_url.split(":", 1)[0]
    try:
        factory = AUDIT_STORES[scheme]
    except KeyError:
        raise ConfigError(f"PE_AUDIT_URL: unsupported store {scheme!r}") from None
    signer = load_or_create_signer(settings.audit_signing_key_file) if signing else None
    policy = CheckpointPolicy(every=settings.checkpoint_every, seconds=settings.checkpoint_seconds)
    store = factory(settings, signer, policy)
    if isinstance(store, SqlAuditStore):
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


def build_engine(settings: Settings | None = None) -> Engine:
    """Load catalog, policies, detectors and the audit store; fail fast on bad configuration."""
    ensure_library_logging()
    settings = load_settings() if settings is None else settings.resolved()
    catalog = load_catalog(settings.catalog)
    evaluator = serving_evaluator(load_policies(settings, catalog), settings)
    detector = build_detector(
        settings.detectors_dir,
        backend=settings.detection_backend,
        cache_size=settings.finding_cache_size,
        compiled_cache_dir=settings.compiled_cache_dir,
    )
    digester = Digester(load_or_create_key(settings.hmac_key_file))
    audit_store = build_audit_store(settings)
    engine = Engine(
        detector=detector,
        evaluator=evaluator,
        catalog=catalog,
        audit_store=audit_store,
        digester=digester,
        scan_deadline_seconds=settings.scan_deadline_seconds,
        scan_workers=settings.scan_workers,
        skip_later_stages=settings.skip_ner,
    )
    if settings.shadow_policies_dir is not None:
        engine.shadow = build_shadow_for(settings, catalog)
    return engine


def build_shadow_for(settings: Settings, catalog: Catalog) -> ShadowEvaluator | None:
    """Shadow mode on PE_SHADOW_POLICIES_DIR; a candidate that fails is logged and left out
    (a shadow never affects the service)."""
    assert settings.shadow_policies_dir is not None
    try:
        return build_shadow(load_policies(settings, catalog, settings.shadow_policies_dir))
    except PolicyEngineError as exc:
        log.error("shadow_disabled", directory=str(settings.shadow_policies_dir), error=str(exc))
        return None


def build_reloader(engine: Engine, settings: Settings) -> PolicyReloader:
    """Hot reload of PE_POLICIES_DIR with the configured evaluator: on SIGHUP, on
    ``POST /policies/reload``, and when PE_POLICIES_WATCH is on, on file changes."""

    def factory(policy_set: PolicySet) -> PolicyEvaluator:
        return serving_evaluator(policy_set, settings)

    reloader = PolicyReloader(engine, settings.policies_dir, factory)
    reloader.install_sighup()
    if settings.policies_watch:
        reloader.watch(settings.policies_watch_interval)
    return reloader
