"""The persistent API key store: a JSON file of hashed keys (``PE_KEYS_FILE``, mode 0600).

Each entry holds the key's id, role, SHA-256 digest, creation time and, once revoked, the
revocation time; the key itself is shown once, by :meth:`KeyStore.create`, and never
stored. Writes replace the file atomically under an exclusive ``flock`` on a side file,
so ``policy-engine keys`` and a running service can share it; the service re-reads the
file when it changes, so a revocation takes effect without a restart.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import secrets
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from policy_engine.access import ROLES, KeyRing, Role, key_digest, key_id_for, parse_bootstrap_keys
from policy_engine.errors import ConfigError

FILE_VERSION = 1
#: Prefix of generated keys, so that a leaked one is easy to recognize in a scan.
KEY_PREFIX = "pe_"


@dataclass(frozen=True)
class KeyEntry:
    """One stored key: never the key itself."""

    id: str
    role: Role
    digest: str
    created: str
    revoked: str | None = None
    label: str = ""

    @property
    def active(self) -> bool:
        return self.revoked is None


def generate_key() -> str:
    """A new random key (256 bits)."""
    return KEY_PREFIX + secrets.token_urlsafe(32)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


class KeyStore:
    """Hashed API keys in one JSON file."""

    def __init__(self, path: Path) -> None:
        self.path = path

    # ------------------------------------------------------------------ reading

    def signature(self) -> tuple[int, int] | None:
        """Changes whenever the file does (mtime and size); None while it does not exist."""
        try:
            stat = self.path.stat()
        except FileNotFoundError:
            return None
        return (stat.st_mtime_ns, stat.st_size)

    def entries(self) -> list[KeyEntry]:
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return []
        except OSError as exc:
            raise ConfigError(f"PE_KEYS_FILE={self.path}: cannot read ({exc.strerror})") from None
        return _parse(self.path, text)

    # ------------------------------------------------------------------ writing

    def create(self, role: Role, label: str = "") -> tuple[str, KeyEntry]:
        """Store a new key of ``role``; return the key (shown once) and its entry."""
        if role not in ROLES:
            raise ConfigError(f"role {role!r}: choose one of {', '.join(ROLES)}")
        key = generate_key()
        entry = KeyEntry(key_id_for(key), role, key_digest(key), _now(), label=label)
        with self._locked() as entries:
            entries.append(entry)
        return key, entry

    def add_keys(self, keys: Iterable[tuple[Role, str]], label: str = "") -> list[KeyEntry]:
        """Store given keys (``PE_BOOTSTRAP_KEYS``) unless their digest is already known.

        A known digest is left as it is, so a revoked bootstrap key stays revoked.
        """
        added: list[KeyEntry] = []
        with self._locked() as entries:
            known = {entry.digest for entry in entries}
            for role, key in keys:
                digest = key_digest(key)
                if digest not in known:
                    entry = KeyEntry(key_id_for(key), role, digest, _now(), label=label)
                    entries.append(entry)
                    added.append(entry)
                    known.add(digest)
        return added

    def revoke(self, key_id: str) -> KeyEntry:
        """Mark the key revoked; ``ConfigError`` if no active key has this id."""
        with self._locked() as entries:
            for index, entry in enumerate(entries):
                if entry.id == key_id and entry.active:
                    revoked = KeyEntry(**{**asdict(entry), "revoked": _now()})
                    entries[index] = revoked
                    return revoked
        raise ConfigError(f"no active key {key_id!r} in {self.path}; see `policy-engine keys list`")

    @contextlib.contextmanager
    def _locked(self) -> Iterator[list[KeyEntry]]:
        """Entries to change under an exclusive lock; written back atomically (0600)."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            lock_path = self.path.with_name(self.path.name + ".lock")
            lock_fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as exc:
            raise ConfigError(f"PE_KEYS_FILE={self.path}: cannot write ({exc.strerror})") from None
        try:
            fcntl.flock(lock_fd, fcntl.LOCK_EX)
            entries = self.entries()
            yield entries
            self._write(entries)
        finally:
            os.close(lock_fd)

    def _write(self, entries: list[KeyEntry]) -> None:
        document = {"version": FILE_VERSION, "keys": [asdict(entry) for entry in entries]}
        temporary = self.path.with_name(self.path.name + ".tmp")
        try:
            fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(document, handle, indent=2)
                handle.write("\n")
                handle.flush()
                os.fsync(handle.fileno())
            os.chmod(temporary, 0o600)
            os.replace(temporary, self.path)
        except OSError as exc:
            raise ConfigError(f"PE_KEYS_FILE={self.path}: cannot write ({exc.strerror})") from None


def service_keyring(
    keys_file: Path, bootstrap_keys: str, announce: Callable[[str], None]
) -> KeyRing:
    """The service's keys: the store, plus ``PE_BOOTSTRAP_KEYS`` added to it.

    When no active gateway key exists, one is created and passed to ``announce`` (the
    service prints it once on stderr; it is never logged).
    """
    store = KeyStore(keys_file)
    store.add_keys(parse_bootstrap_keys(bootstrap_keys), label="PE_BOOTSTRAP_KEYS")
    if not any(entry.active and entry.role == "gateway" for entry in store.entries()):
        key, entry = store.create("gateway", label="first key, made at start")
        announce(
            f"policy-engine: no gateway key existed, so one was made ({entry.id}). It is shown"
            f" once, here; store it now:\n\n    {key}\n\nSend it as 'Authorization: Bearer KEY'."
            f" Manage keys with `policy-engine keys create|list|revoke` ({keys_file})."
        )
    return KeyRing(store=store)


def _parse(path: Path, text: str) -> list[KeyEntry]:
    try:
        document: Any = json.loads(text)
        if document.get("version") != FILE_VERSION:
            raise ValueError(f"unsupported version {document.get('version')!r}")
        entries = [KeyEntry(**item) for item in document["keys"]]
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        raise ConfigError(
            f"PE_KEYS_FILE={path}: not a key file of version {FILE_VERSION} ({exc})"
        ) from None
    for entry in entries:
        if entry.role not in ROLES:
            raise ConfigError(f"PE_KEYS_FILE={path}: key {entry.id} has unknown role")
    return entries
