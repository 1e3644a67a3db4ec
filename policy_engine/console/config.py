"""What the console runs on, built once by the composition root (:func:`build_console`):
its session signer, the catalog (prices, endpoint names), the public keys verify trusts,
and the candidate policy directories the replay page may run."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from policy_engine.catalog import Catalog
from policy_engine.console.sessions import SessionSigner
from policy_engine.digest import load_or_create_key
from policy_engine.settings import Settings


@dataclass(frozen=True)
class Candidate:
    """A candidate policy directory, offered by name (the page never shows or takes a path)."""

    name: str
    path: Path


@dataclass(frozen=True)
class ConsoleConfig:
    sessions: SessionSigner
    catalog: Catalog
    trusted_keys: Mapping[str, Ed25519PublicKey]
    candidates: tuple[Candidate, ...] = ()

    def candidate(self, name: str) -> Candidate | None:
        return next((c for c in self.candidates if c.name == name), None)


def candidates_of(paths: list[Path]) -> tuple[Candidate, ...]:
    """Name each directory by its last part, adding its parent's where two would clash."""
    names = [path.name for path in paths]
    return tuple(
        Candidate(
            f"{path.parent.name}/{path.name}" if names.count(path.name) > 1 else path.name, path
        )
        for path in paths
    )


def trusted_public_keys(settings: Settings) -> dict[str, Ed25519PublicKey]:
    """The public half of the service's checkpoint signing key (PE_AUDIT_SIGNING_KEY_FILE's
    ``.pub``, else the key itself), by key id; none when neither exists yet."""
    from policy_engine.audit.signing import key_id, load_public_key

    configured = settings.audit_signing_key_file
    for path in (configured.with_name(configured.name + ".pub"), configured):
        if path.exists():
            key = load_public_key(path)
            return {key_id(key): key}
    return {}


def build_console(settings: Settings, catalog: Catalog) -> ConsoleConfig:
    """The console's parts on ``settings`` (resolved); the session key is created on first
    start (PE_CONSOLE_SESSION_KEY_FILE)."""
    secret = load_or_create_key(settings.console_session_key_file, "PE_CONSOLE_SESSION_KEY_FILE")
    return ConsoleConfig(
        sessions=SessionSigner(secret, settings.console_session_minutes * 60),
        catalog=catalog,
        trusted_keys=trusted_public_keys(settings),
        candidates=candidates_of(settings.console_replay_paths),
    )
