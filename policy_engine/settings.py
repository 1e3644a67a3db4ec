"""Configuration, read once at start-up from ``PE_*`` environment variables.

Nothing else in the package reads the environment. Invalid values raise
:class:`ConfigError` with a message that names the setting.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from policy_engine.errors import ConfigError

#: The source tree's root, used to find the shipped ``policies/``, ``detectors/`` and
#: ``examples/`` when the working directory does not have them.
PROJECT_ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    """Every setting of the service, the CLI and the Python API."""

    model_config = SettingsConfigDict(env_prefix="PE_", extra="ignore", frozen=True)

    host: str = Field(default="127.0.0.1", min_length=1)
    port: int = Field(default=8080, ge=1, le=65535)
    policies_dir: Path = Path("policies")
    detectors_dir: Path = Path("detectors")
    catalog: Path = Path("examples/catalog.yaml")
    audit_url: str = "sqlite:///var/audit.db"
    #: File holding the HMAC key for keyed digests; created (0600) on first start.
    hmac_key_file: Path = Path("var/hmac.key")
    detection_backend: Literal["presidio", "patterns"] = "presidio"
    max_body_bytes: int = Field(default=1024 * 1024, ge=1024, le=64 * 1024 * 1024)
    log_format: Literal["json", "console"] = "json"
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    #: API keys created at start, ``role:KEY,role:KEY`` (roles: gateway, auditor, admin).
    bootstrap_keys: str = Field(default="", repr=False)
    #: Audit: sign a checkpoint of the log's head after this many records ...
    checkpoint_every: int = Field(default=1000, ge=1, le=10_000_000)
    #: ... or this many seconds after the last checkpoint, whichever comes first.
    checkpoint_seconds: float = Field(default=60.0, gt=0, le=86_400)
    #: Audit: Ed25519 private key (PEM) signing checkpoints; created (0600) with a
    #: ``.pub`` beside it on first start when missing.
    audit_signing_key_file: Path = Path("var/audit-signing.key")

    @field_validator("bootstrap_keys")
    @classmethod
    def _valid_keys(cls, value: str) -> str:
        from policy_engine.access import parse_bootstrap_keys

        try:
            parse_bootstrap_keys(value)
        except ConfigError as exc:
            raise ValueError(str(exc).removeprefix("PE_BOOTSTRAP_KEYS: ")) from None
        return value

    @field_validator("audit_url")
    @classmethod
    def _known_scheme(cls, value: str) -> str:
        if value.startswith(("postgresql://", "postgres://")):
            if value in ("postgresql://", "postgres://"):
                raise ValueError("postgresql:// needs a host or database, e.g. postgresql://h/db")
            return value
        if not value.startswith("sqlite:///"):
            raise ValueError(
                "must look like sqlite:///PATH (e.g. sqlite:///var/audit.db)"
                " or postgresql://USER:PASSWORD@HOST:PORT/DATABASE"
            )
        if value == "sqlite:///":
            raise ValueError("sqlite:/// needs a file path")
        return value

    @property
    def audit_path(self) -> Path:
        return Path(self.audit_url.removeprefix("sqlite:///"))

    def resolved(self) -> Settings:
        """Resolve relative data paths and check that they exist.

        A relative ``policies_dir``, ``detectors_dir`` or ``catalog`` is looked up in the
        working directory first, then in the source tree (the shipped defaults).
        """
        updates = {
            "policies_dir": _find("PE_POLICIES_DIR", self.policies_dir, want_dir=True),
            "detectors_dir": _find("PE_DETECTORS_DIR", self.detectors_dir, want_dir=True),
            "catalog": _find("PE_CATALOG", self.catalog, want_dir=False),
        }
        return self.model_copy(update=updates)


def _find(setting: str, path: Path, *, want_dir: bool) -> Path:
    candidates = [path] if path.is_absolute() else [Path.cwd() / path, PROJECT_ROOT / path]
    kind = "directory" if want_dir else "file"
    for candidate in candidates:
        if want_dir and candidate.is_dir():
            return candidate
        if not want_dir and candidate.is_file():
            return candidate
    raise ConfigError(f"{setting}={path}: no such {kind}")


def load_settings(**overrides: object) -> Settings:
    """Read settings from the environment (plus explicit overrides) and validate them."""
    try:
        settings = Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            name = "PE_" + str(error["loc"][0]).upper() if error["loc"] else "settings"
            problems.append(f"{name}: {error['msg']}")
        raise ConfigError("invalid settings: " + "; ".join(problems)) from None
    return settings.resolved()
