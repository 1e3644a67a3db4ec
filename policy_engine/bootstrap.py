"""The composition root: settings in, a wired :class:`Engine` out.

Registries of implementations are explicit dicts (kind → factory); the service,
the CLI and the Python API all call :func:`build_engine`.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from policy_engine.audit import SQLiteAuditStore
from policy_engine.audit.checkpoints import CheckpointPolicy
from policy_engine.audit.postgres_store import PostgresAuditStore
from policy_engine.audit.signing import Signer, load_or_create_signer
from policy_engine.audit.sql_store import SqlAuditStore
from policy_engine.catalog import Catalog, load_catalog
from policy_engine.detection import build_detector
from policy_engine.digest import Digester, load_or_create_key
from policy_engine.engine import Engine
from policy_engine.errors import ConfigError
from policy_engine.logs import ensure_library_logging
from policy_engine.policy import EmbeddedEvaluator, load_policy_set
from policy_engine.ports import AuditStore, PolicyEvaluator
from policy_engine.settings import Settings, load_settings

AuditStoreFactory = Callable[[Settings, Signer | None, CheckpointPolicy], AuditStore]

AUDIT_STORES: dict[str, AuditStoreFactory] = {
    "sqlite": lambda settings, signer, policy: SQLiteAuditStore(
        settings.audit_path, signer=signer, checkpoint_policy=policy
    ),
    "postgresql": lambda settings, signer, policy: PostgresAuditStore(
        settings.audit_url, signer=signer, checkpoint_policy=policy
    ),
    "postgres": lambda settings, signer, policy: PostgresAuditStore(
        settings.audit_url, signer=signer, checkpoint_policy=policy
    ),
}

POLICY_EVALUATORS: dict[str, Callable[[Path, Catalog], PolicyEvaluator]] = {
    "embedded": lambda policies_dir, catalog: EmbeddedEvaluator(
        load_policy_set(policies_dir, {"catalog": catalog.policy_data()})
    ),
}


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


def build_evaluator(settings: Settings, catalog: Catalog) -> PolicyEvaluator:
    return POLICY_EVALUATORS["embedded"](settings.policies_dir, catalog)


def build_engine(settings: Settings | None = None) -> Engine:
    """Load catalog, policies, detectors and the audit store; fail fast on bad configuration."""
    ensure_library_logging()
    settings = load_settings() if settings is None else settings.resolved()
    catalog = load_catalog(settings.catalog)
    evaluator = build_evaluator(settings, catalog)
    detector = build_detector(settings.detectors_dir, backend=settings.detection_backend)
    digester = Digester(load_or_create_key(settings.hmac_key_file))
    audit_store = build_audit_store(settings)
    return Engine(
        detector=detector,
        evaluator=evaluator,
        catalog=catalog,
        audit_store=audit_store,
        digester=digester,
    )
