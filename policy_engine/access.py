"""API keys and roles: who may call what.

Roles: ``gateway`` (POST /decide), ``auditor`` (GET /audit/…), ``admin`` (policy
reload, key management). A key is a bearer token; the engine keeps only its
SHA-256 digest and compares digests in constant time. A key is known by its id
(``key-`` + the first 12 hex digits of the digest), which the audit log records
as the caller; the key itself is never stored or logged.

Keys come from the key store (``PE_KEYS_FILE``, see :mod:`policy_engine.keystore`,
managed with ``policy-engine keys``) and from ``PE_BOOTSTRAP_KEYS`` (``role:KEY,role:KEY``),
which the service adds to the store at start.
"""

from __future__ import annotations

import hashlib
import hmac
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, get_args

from policy_engine.errors import ConfigError
from policy_engine.logs import get_logger

if TYPE_CHECKING:
    from policy_engine.keystore import KeyStore

_log = get_logger("policy_engine.access")

Role = Literal["gateway", "auditor", "admin"]
ROLES: tuple[Role, ...] = get_args(Role)
#: Shortest key accepted, in characters.
MIN_KEY_LENGTH = 16


@dataclass(frozen=True)
class Principal:
    """An authenticated caller."""

    key_id: str
    role: Role


def key_digest(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def key_id_for(key: str) -> str:
    return "key-" + key_digest(key)[:12]


def parse_bootstrap_keys(spec: str) -> list[tuple[Role, str]]:
    """Parse ``role:KEY,role:KEY``. Errors name the entry's position, never the key."""
    keys: list[tuple[Role, str]] = []
    for position, item in enumerate((part.strip() for part in spec.split(",")), start=1):
        if not item:
            continue
        role, sep, key = item.partition(":")
        role = role.strip()
        key = key.strip()
        if not sep or role not in ROLES:
            raise ConfigError(
                f"PE_BOOTSTRAP_KEYS: entry {position} must look like ROLE:KEY with ROLE one of"
                f" {', '.join(ROLES)}"
            )
        if len(key) < MIN_KEY_LENGTH or any(c.isspace() or c == "," for c in key):
            raise ConfigError(
                f"PE_BOOTSTRAP_KEYS: entry {position} ({role}): the key must be at least"
                f" {MIN_KEY_LENGTH} characters without spaces or commas"
            )
        keys.append((role, key))
    return keys


class KeyRing:
    """Known keys by digest. ``authenticate`` answers the principal of a presented key.

    With a ``store``, its active keys count too, and its revoked keys are refused even when
    also given directly; the store's file is re-read whenever it changes.
    """

    def __init__(
        self, keys: Iterable[tuple[Role, str]] = (), *, store: KeyStore | None = None
    ) -> None:
        self._by_digest: dict[str, Principal] = {}
        for role, key in keys:
            self.add_digest(key_digest(key), Principal(key_id_for(key), role))
        self._store = store
        self._store_signature: tuple[int, int] | None = None
        # (active keys by digest, revoked digests), replaced as a whole on each re-read.
        self._stored: tuple[dict[str, Principal], frozenset[str]] = ({}, frozenset())
        self._refresh_lock = threading.Lock()
        if store is not None:
            self._load(store)

    @property
    def store(self) -> KeyStore | None:
        """The persistent store the ring reads, if any (key management writes to it)."""
        return self._store

    def add_digest(self, digest: str, principal: Principal) -> None:
        self._by_digest[digest] = principal

    def _load(self, store: KeyStore) -> None:
        signature = store.signature()
        entries = store.entries()
        active = {e.digest: Principal(e.id, e.role) for e in entries if e.active}
        self._stored = (active, frozenset(e.digest for e in entries if not e.active))
        self._store_signature = signature

    def _refresh(self) -> tuple[dict[str, Principal], frozenset[str]]:
        """The store's keys, re-read if its file changed; the last good ones if it is damaged."""
        store = self._store
        if store is not None and store.signature() != self._store_signature:
            with self._refresh_lock:
                if store.signature() != self._store_signature:
                    try:
                        self._load(store)
                    except ConfigError as exc:
                        _log.error("key_file_unreadable", problem=str(exc))
        return self._stored

    def authenticate(self, key: str) -> Principal | None:
        stored, revoked = self._refresh()
        presented = key_digest(key)
        found: Principal | None = None
        # Compare against every digest so timing does not depend on which one matches.
        for table in (self._by_digest, stored):
            for digest, principal in table.items():
                if hmac.compare_digest(digest, presented):
                    found = principal
        if any(hmac.compare_digest(digest, presented) for digest in revoked):
            return None
        return found

    def principal(self, key_id: str) -> Principal | None:
        """The principal of the usable key whose id is ``key_id`` (None if it is unknown
        or revoked): for sessions that hold a key's id, never the key."""
        stored, revoked = self._refresh()
        for table in (self._by_digest, stored):
            for digest, principal in table.items():
                if principal.key_id == key_id and digest not in revoked:
                    return principal
        return None

    def roles(self) -> set[Role]:
        """The roles that at least one usable key has."""
        stored, revoked = self._refresh()
        usable = {**self._by_digest, **stored}
        return {p.role for d, p in usable.items() if d not in revoked}

    def __len__(self) -> int:
        stored, _ = self._refresh()
        return len(set(self._by_digest) | set(stored))
