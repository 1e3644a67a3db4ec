"""The audit stores by URL scheme (``PE_AUDIT_URL``): one registry, used both to check a
URL when settings are read and to open the store it names.

* ``sqlite:///PATH`` — :class:`~policy_engine.audit.sqlite_store.SQLiteAuditStore`, the
  embedded default (a relative PATH is relative to the working directory);
* ``postgresql://…`` (or ``postgres://…``) —
  :class:`~policy_engine.audit.postgres_store.PostgresAuditStore`, shared by replicas.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from policy_engine.audit.checkpoints import CheckpointPolicy
from policy_engine.audit.signing import Signer
from policy_engine.audit.sql_store import SqlAuditStore


@dataclass(frozen=True)
class StoreKind:
    """One kind of store: how its URLs look and how to open one."""

    example: str
    #: What is wrong with a URL of this scheme, or None when it is usable.
    problem: Callable[[str], str | None]
    open: Callable[[str, Signer | None, CheckpointPolicy], SqlAuditStore]


def sqlite_path(url: str) -> Path:
    """The file a ``sqlite:///PATH`` URL names."""
    return Path(url.removeprefix("sqlite:///"))


def _sqlite_problem(url: str) -> str | None:
    if not url.startswith("sqlite:///"):
        return "must look like sqlite:///PATH (e.g. sqlite:///var/audit.db)"
    return "sqlite:/// needs a file path" if url == "sqlite:///" else None


def _open_sqlite(url: str, signer: Signer | None, policy: CheckpointPolicy) -> SqlAuditStore:
    from policy_engine.audit.sqlite_store import SQLiteAuditStore

    return SQLiteAuditStore(sqlite_path(url), signer=signer, checkpoint_policy=policy)


def _postgres_problem(url: str) -> str | None:
    if url in ("postgresql://", "postgres://"):
        return "postgresql:// needs a host or database, e.g. postgresql://h/db"
    return None


def _open_postgres(url: str, signer: Signer | None, policy: CheckpointPolicy) -> SqlAuditStore:
    from policy_engine.audit.postgres_store import PostgresAuditStore  # psycopg: only when used

    return PostgresAuditStore(url, signer=signer, checkpoint_policy=policy)


_POSTGRES = StoreKind(
    "postgresql://USER:PASSWORD@HOST:PORT/DATABASE", _postgres_problem, _open_postgres
)

#: Every store by URL scheme.
AUDIT_STORES: dict[str, StoreKind] = {
    "sqlite": StoreKind("sqlite:///var/audit.db", _sqlite_problem, _open_sqlite),
    "postgresql": _POSTGRES,
    "postgres": _POSTGRES,
}


def audit_url_problem(url: str) -> str | None:
    """What is wrong with ``url`` as ``PE_AUDIT_URL``, or None when a store can open it."""
    scheme = url.split(":", 1)[0] if "://" in url else ""
    kind = AUDIT_STORES.get(scheme)
    if kind is None:
        examples = " or ".join(dict.fromkeys(k.example for k in AUDIT_STORES.values()))
        return f"must look like {examples}"
    return kind.problem(url)


def open_audit_store(
    url: str, signer: Signer | None = None, policy: CheckpointPolicy | None = None
) -> SqlAuditStore:
    """The store ``url`` names (checked with :func:`audit_url_problem` first)."""
    problem = audit_url_problem(url)
    if problem is not None:
        from policy_engine.errors import ConfigError

        raise ConfigError(f"PE_AUDIT_URL: {problem}")
    kind = AUDIT_STORES[url.split(":", 1)[0]]
    return kind.open(url, signer, policy if policy is not None else CheckpointPolicy())
