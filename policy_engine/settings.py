"""Configuration, read once at start-up from ``PE_*`` environment variables.

Nothing else in the package reads the environment (the upstream API keys a catalog names
are read here too, :func:`environment_secrets`). Invalid values raise
:class:`ConfigError` with a message that names the setting.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from policy_engine.audit.stores import audit_url_problem, sqlite_path
from policy_engine.errors import ConfigError
from policy_engine.intake import RequestLimits

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
    #: Hashed API keys (``policy-engine keys``); created 0600 when the first key is made.
    keys_file: Path = Path("var/keys.json")
    #: Time one request's detection may take; past it the decision fails closed
    #: (``scan_timeout``) and the late result is discarded.
    scan_deadline_seconds: float = Field(default=2.0, gt=0, le=600)
    #: ... plus this many seconds per 100,000 characters of the request (so that the largest
    #: request the limits admit can be scanned: 2 + 5 x 2.6 = 15.1 s at 262,144 characters).
    scan_deadline_seconds_per_100k: float = Field(default=5.0, ge=0, le=600)
    #: Threads that run detection (requests beyond these wait, within their deadline).
    scan_workers: int = Field(default=4, ge=1, le=64)
    #: Most chat messages in one request (413 ``too_many_messages`` beyond).
    max_messages: int = Field(default=256, ge=1, le=100_000)
    #: Deepest JSON nesting of a request body (400 ``nesting_too_deep`` beyond).
    max_nesting_depth: int = Field(default=32, ge=4, le=1000)
    #: Most characters in ``content`` or in one message's texts (413 ``content_too_long``).
    max_message_chars: int = Field(default=262_144, ge=1, le=64 * 1024 * 1024)
    #: Reject unknown fields anywhere in a request, chat messages included (422).
    strict_mode: bool = False
    #: What /decide does when the audit store fails: ``reject`` (503, no decision).
    on_audit_failure: Literal["reject"] = "reject"
    #: Policy evaluator: ``embedded`` (regopy in-process) or ``opa`` (an OPA server, PE_OPA_URL).
    policy_backend: Literal["embedded", "opa"] = "embedded"
    #: The OPA server the ``opa`` backend pushes policies to and queries.
    opa_url: str = Field(default="http://127.0.0.1:8181", pattern=r"^https?://[^/\s]+/?$")
    #: Seconds one OPA query may take before the decision fails closed.
    opa_timeout: float = Field(default=2.0, gt=0.0, le=60.0)
    #: Reload PE_POLICIES_DIR when a file in it changes (polling every interval seconds).
    policies_watch: bool = False
    policies_watch_interval: float = Field(default=2.0, ge=0.2, le=3600.0)
    #: Policy decisions kept in memory per policy revision, keyed by a digest of the part of
    #: the input the policies read (policy/cache.py; embedded backend only); 0: no cache.
    policy_cache_size: int = Field(default=1024, ge=0, le=1_000_000)
    #: Where the compiled pattern prefilter is kept for the next start (detection/
    #: prefilter_store.py); empty: compile it at every start (about 0.9 s of CPU).
    compiled_cache_dir: Path | None = Path("var/cache")
    #: A candidate policy directory evaluated beside the active one (shadow mode); unset: off.
    shadow_policies_dir: Path | None = None
    #: Audit: sign a checkpoint of the log's head after this many records ...
    checkpoint_every: int = Field(default=1000, ge=1, le=10_000_000)
    #: ... or this many seconds after the last checkpoint, whichever comes first.
    checkpoint_seconds: float = Field(default=60.0, gt=0, le=86_400)
    #: Audit: Ed25519 private key (PEM) signing checkpoints; created (0600) with a
    #: ``.pub`` beside it on first start when missing.
    audit_signing_key_file: Path = Path("var/audit-signing.key")
    #: Texts whose detected spans are kept in memory, keyed by content digest and detector
    #: revision (a chat's re-sent history is scanned once); 0 turns the cache off.
    finding_cache_size: int = Field(default=4096, ge=0, le=1_000_000)
    #: Detection: skip the NER stage (spaCy) when the pattern stage's findings already force
    #: on_prem_only; the decision records the skipped stage and why (``detection``).
    skip_ner: bool = True
    #: Console (``/ui``): the key that signs its session cookies; created (0600) on first
    #: start when missing.
    console_session_key_file: Path = Path("var/console-session.key")
    #: How long a console sign-in lasts, in minutes.
    console_session_minutes: int = Field(default=480, ge=1, le=7 * 24 * 60)
    #: Candidate policy directories the console's replay page offers, comma-separated
    #: (people pick one by name; nobody types a path into the page).
    console_replay_dirs: str = ""
    #: LiteLLM's guardrail route: model group -> catalog endpoint id, a JSON object
    #: (``{"public-chat": "deepseek-v4-flash"}``); a group not in it is the catalog id of
    #: its own name. When set, a ``model_map`` in the guardrail's parameters is ignored.
    litellm_model_map: Annotated[dict[str, str], NoDecode] = Field(default_factory=dict)

    @field_validator("litellm_model_map", mode="before")
    @classmethod
    def _json_object(cls, value: object) -> object:
        if not isinstance(value, str):
            return value
        if not value.strip():
            return {}
        try:
            parsed = json.loads(value)
        except json.JSONDecodeError as exc:
            raise ValueError(f"not valid JSON ({exc.msg} at column {exc.colno})") from None
        if not isinstance(parsed, dict) or not all(
            isinstance(k, str) and k and isinstance(v, str) and v for k, v in parsed.items()
        ):
            raise ValueError(
                "must be a JSON object of model group -> catalog endpoint id, "
                'e.g. {"chat": "gpt-4o"}'
            )
        return parsed

    #: Routing proxy: one OpenAI-compatible server every endpoint is sent to (a local vLLM
    #: or Ollama, a test fake) instead of each endpoint's catalog ``upstream.base_url``.
    upstream_base_url: str | None = Field(default=None, pattern=r"^https?://[^\s/]+(/\S*)?$")
    #: The API key sent to PE_UPSTREAM_BASE_URL (instead of each endpoint's api_key_env).
    upstream_api_key: str | None = Field(default=None, repr=False)
    #: Seconds the proxy waits for an upstream to connect (then: connection_error).
    upstream_connect_timeout: float = Field(default=5.0, gt=0, le=600)
    #: Seconds the proxy waits for an upstream's answer to start, and between the chunks of
    #: a stream (then: timeout, and one fallback).
    upstream_timeout: float = Field(default=60.0, gt=0, le=3600)
    #: Conversations whose endpoint the proxy remembers (sticky sessions), least recently
    #: used forgotten first.
    proxy_conversations: int = Field(default=10_000, ge=0, le=10_000_000)

    @field_validator("upstream_base_url", "upstream_api_key", mode="before")
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("compiled_cache_dir", mode="before")
    @classmethod
    def _empty_is_off(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

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
        problem = audit_url_problem(value)
        if problem is not None:
            raise ValueError(problem)
        return value

    @property
    def audit_path(self) -> Path:
        """The SQLite file of a ``sqlite:///PATH`` audit URL (relative: to the working
        directory)."""
        return sqlite_path(self.audit_url)

    @property
    def request_limits(self) -> RequestLimits:
        """The shape limits every request is held to (the service and the Python API)."""
        return RequestLimits(
            max_messages=self.max_messages,
            max_nesting_depth=self.max_nesting_depth,
            max_message_chars=self.max_message_chars,
            strict=self.strict_mode,
        )

    def resolved(self) -> Settings:
        """Resolve relative data paths and check that they exist.

        A relative ``policies_dir``, ``detectors_dir`` or ``catalog`` is looked up in the
        working directory first, then in the source tree (the shipped defaults).
        """
        updates: dict[str, Path | str] = {
            "policies_dir": _find("PE_POLICIES_DIR", self.policies_dir, want_dir=True),
            "detectors_dir": _find("PE_DETECTORS_DIR", self.detectors_dir, want_dir=True),
            "catalog": _find("PE_CATALOG", self.catalog, want_dir=False),
        }
        if self.shadow_policies_dir is not None:
            updates["shadow_policies_dir"] = _find(
                "PE_SHADOW_POLICIES_DIR", self.shadow_policies_dir, want_dir=True
            )
        if self.console_replay_dirs.strip():
            updates["console_replay_dirs"] = ",".join(
                str(_find("PE_CONSOLE_REPLAY_DIRS", Path(part.strip()), want_dir=True))
                for part in self.console_replay_dirs.split(",")
                if part.strip()
            )
        return self.model_copy(update=updates)

    @property
    def console_replay_paths(self) -> list[Path]:
        """The directories of ``console_replay_dirs`` (after :meth:`resolved`: absolute)."""
        return [Path(p.strip()) for p in self.console_replay_dirs.split(",") if p.strip()]


def _find(setting: str, path: Path, *, want_dir: bool) -> Path:
    candidates = [path] if path.is_absolute() else [Path.cwd() / path, PROJECT_ROOT / path]
    kind = "directory" if want_dir else "file"
    for candidate in candidates:
        if want_dir and candidate.is_dir():
            return candidate
        if not want_dir and candidate.is_file():
            return candidate
    raise ConfigError(f"{setting}={path}: no such {kind}")


def environment_secrets(names: Iterable[str]) -> dict[str, str]:
    """The values of the environment variables ``names`` that are set and not blank (the
    catalog's ``upstream.api_key_env``: keys named by configuration, read once at start)."""
    found = {name: os.environ.get(name, "").strip() for name in sorted(set(names))}
    return {name: value for name, value in found.items() if value}


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
