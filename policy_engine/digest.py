"""Keyed digests (HMAC-SHA256) of values the engine must never store.

An auditor holding the key can match a known value or document to audit records;
the log alone reveals nothing.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path

from policy_engine.errors import ConfigError

PREFIX = "hmac-sha256:"
KEY_BYTES = 32


class Digester:
    """Computes keyed digests with one secret key."""

    def __init__(self, key: bytes) -> None:
        if len(key) < 16:
            raise ConfigError("HMAC key must be at least 16 bytes")
        self._key = key

    def digest(self, value: str) -> str:
        mac = hmac.new(self._key, value.encode("utf-8", "surrogatepass"), hashlib.sha256)
        return PREFIX + mac.hexdigest()

    def __repr__(self) -> str:  # never show the key
        return "Digester(key=<hidden>)"


def load_or_create_key(path: Path, setting: str = "PE_HMAC_KEY_FILE") -> bytes:
    """Read the hex key in ``path``; create it (mode 0600) with a random key if missing.
    Errors name ``setting``, the setting that gave the path."""
    try:
        return _read_key(path, setting)
    except FileNotFoundError:
        pass
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process created it first
        return _read_key(path, setting)
    except OSError as exc:
        raise ConfigError(f"{setting}={path}: cannot create key ({exc.strerror})") from None
    with os.fdopen(fd, "w") as handle:
        handle.write(secrets.token_hex(KEY_BYTES) + "\n")
    return _read_key(path, setting)


def _read_key(path: Path, setting: str) -> bytes:
    text = path.read_text(encoding="ascii", errors="replace").strip()
    try:
        key = bytes.fromhex(text)
    except ValueError:
        raise ConfigError(f"{setting}={path}: the key file must hold hex digits") from None
    if len(key) < 16:
        raise ConfigError(f"{setting}={path}: the key must be at least 16 bytes")
    return key
