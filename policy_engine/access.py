"""API keys and roles: who may call what.

Roles: ``gateway`` (POST /decide), ``auditor`` (GET /audit/…), ``admin`` (policy
reload, key management). A key is a bearer token; the engine keeps only its
SHA-256 digest and compares digests in constant time. A key is known by its id
(``key-`` + the first 12 hex digits of the digest), which the audit log records
as the caller; the key itself is never stored or logged.

Keys come from ``PE_BOOTSTRAP_KEYS`` (``role:KEY,role:KEY``).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal, get_args

from policy_engine.errors import ConfigError

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
    """Known keys by digest. ``authenticate`` answers the principal of a presented key."""

    def __init__(self, keys: Iterable[tuple[Role, str]] = ()) -> None:
        self._by_digest: dict[str, Principal] = {}
        for role, key in keys:
            self.add_digest(key_digest(key), Principal(key_id_for(key), role))

    def add_digest(self, digest: str, principal: Principal) -> None:
        self._by_digest[digest] = principal

    def authenticate(self, key: str) -> Principal | None:
        presented = key_digest(key)
        found: Principal | None = None
        # Compare against every digest so timing does not depend on which one matches.
        for digest, principal in self._by_digest.items():
            if hmac.compare_digest(digest, presented):
                found = principal
        return found

    def __len__(self) -> int:
        return len(self._by_digest)
