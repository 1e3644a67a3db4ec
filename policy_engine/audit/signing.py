"""Ed25519 keys that sign audit checkpoints.

The private key lives in ``PE_AUDIT_SIGNING_KEY_FILE`` (PEM, mode 0600, created on
first start when missing); its public half is written beside it as ``<file>.pub``.
An auditor keeps a copy of the public key apart from the log: ``audit verify``
checks checkpoint signatures with it. ``key_id`` names a key in checkpoints.
"""

from __future__ import annotations

import base64
import hashlib
import os
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from policy_engine.errors import ConfigError

_RAW = serialization.Encoding.Raw, serialization.PublicFormat.Raw


def key_id(public_key: Ed25519PublicKey) -> str:
    """``ed25519:`` and the first 16 hex digits of the SHA-256 of the raw public key."""
    return "ed25519:" + hashlib.sha256(public_key.public_bytes(*_RAW)).hexdigest()[:16]


def public_pem(public_key: Ed25519PublicKey) -> str:
    return public_key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode("ascii")


class Signer:
    """Signs checkpoint messages with one private key."""

    def __init__(self, private_key: Ed25519PrivateKey) -> None:
        self._key = private_key
        self.public_key = private_key.public_key()
        self.key_id = key_id(self.public_key)

    def sign(self, message: bytes) -> str:
        return base64.b64encode(self._key.sign(message)).decode("ascii")

    def __repr__(self) -> str:  # never show the key
        return f"Signer(key_id={self.key_id})"


def signature_valid(public_key: Ed25519PublicKey, message: bytes, signature: str) -> bool:
    try:
        public_key.verify(base64.b64decode(signature, validate=True), message)
    except (InvalidSignature, ValueError):
        return False
    return True


def load_or_create_signer(path: Path) -> Signer:
    """Read the PEM private key in ``path``; create it (0600) and ``path.pub`` if missing."""
    try:
        return Signer(_read_private(path))
    except FileNotFoundError:
        pass
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process created it first
        return Signer(_read_private(path))
    except OSError as exc:
        raise ConfigError(
            f"PE_AUDIT_SIGNING_KEY_FILE={path}: cannot create key ({exc.strerror})"
        ) from None
    with os.fdopen(fd, "wb") as handle:
        handle.write(pem)
    signer = Signer(_read_private(path))
    public_path = path.with_name(path.name + ".pub")
    public_path.write_text(public_pem(signer.public_key), encoding="ascii")
    return signer


def load_public_key(path: Path) -> Ed25519PublicKey:
    """A public key from a PEM file (``.pub``), or the public half of a private key file."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read public key ({exc.strerror})") from None
    if b"PRIVATE KEY" in data:
        return _read_private(path).public_key()
    try:
        key = serialization.load_pem_public_key(data)
    except ValueError:
        raise ConfigError(f"{path}: not a PEM public key") from None
    if not isinstance(key, Ed25519PublicKey):
        raise ConfigError(f"{path}: not an Ed25519 public key")
    return key


def _read_private(path: Path) -> Ed25519PrivateKey:
    data = path.read_bytes()
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError):
        raise ConfigError(
            f"PE_AUDIT_SIGNING_KEY_FILE={path}: not an unencrypted PEM private key"
        ) from None
    if not isinstance(key, Ed25519PrivateKey):
        raise ConfigError(f"PE_AUDIT_SIGNING_KEY_FILE={path}: not an Ed25519 key")
    return key
