"""The endpoint catalog: which LLM endpoints exist, where they run, what they cost.

Loaded from YAML (``PE_CATALOG``), validated, and handed to policies as
``data.catalog.endpoints``. Ranking by estimated cost happens here, not in policy.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from policy_engine.errors import ConfigError
from policy_engine.models import Tier

Deployment = Literal["on_prem", "trusted_hosted", "public_hosted"]

#: Rough characters per token for English text; used for cost and context-window checks.
CHARS_PER_TOKEN = 4
#: Output tokens assumed when the caller does not say (``context.max_output_tokens``).
DEFAULT_OUTPUT_TOKENS = 512


class Price(BaseModel):
    model_config = ConfigDict(extra="forbid")

    input_per_mtok: float = Field(ge=0, description="USD per million input tokens")
    output_per_mtok: float = Field(ge=0, description="USD per million output tokens")


class Provenance(BaseModel):
    """What is known about where a model comes from and how its host treats data."""

    model_config = ConfigDict(extra="allow")

    weights_source: str | None = None
    weights_sha256: str | None = None
    dpa: bool | None = None
    zero_data_retention: bool | None = None


class Upstream(BaseModel):
    """Where the routing proxy sends an endpoint's requests: an OpenAI-compatible API.

    ``api_key_env`` names the environment variable holding the API key (never the key
    itself); without it requests go without a key (a local vLLM or Ollama).
    """

    model_config = ConfigDict(extra="forbid")

    base_url: str = Field(
        pattern=r"^https?://[^\s/]+(/\S*)?$",
        description="OpenAI-compatible base URL, e.g. https://api.deepseek.com/v1",
    )
    model: str | None = Field(
        default=None, min_length=1, description="Model name upstream (default: the endpoint's)"
    )
    api_key_env: str | None = Field(default=None, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")


class Endpoint(BaseModel):
    model_config = ConfigDict(extra="allow")

    id: str = Field(min_length=1, pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]*$")
    name: str | None = None
    model: str
    vendor: str
    deployment: Deployment
    jurisdiction: str | None = None
    context_window: int = Field(gt=0)
    price: Price
    provenance: Provenance = Field(default_factory=Provenance)
    #: The routing tier the endpoint serves (``advanced``, ``balanced``, ``practical``).
    tier: Tier | None = None
    #: The OpenAI-compatible API the routing proxy forwards to (None: not routable unless
    #: ``PE_UPSTREAM_BASE_URL`` sends every endpoint to one server).
    upstream: Upstream | None = None

    def estimated_cost(self, input_tokens: int, output_tokens: int) -> float:
        """Estimated USD cost of one request."""
        return (
            input_tokens * self.price.input_per_mtok + output_tokens * self.price.output_per_mtok
        ) / 1_000_000


class Catalog(BaseModel):
    model_config = ConfigDict(extra="forbid")

    endpoints: list[Endpoint] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_ids(self) -> Catalog:
        seen: set[str] = set()
        for endpoint in self.endpoints:
            if endpoint.id in seen:
                raise ValueError(f"duplicate endpoint id {endpoint.id!r}")
            seen.add(endpoint.id)
        return self

    def by_id(self, endpoint_id: str) -> Endpoint | None:
        return next((e for e in self.endpoints if e.id == endpoint_id), None)

    def policy_data(self) -> dict[str, Any]:
        """The catalog as policies see it: ``data.catalog``."""
        return {"endpoints": [e.model_dump(mode="json", exclude_none=True) for e in self.endpoints]}


def estimate_tokens(characters: int) -> int:
    return math.ceil(characters / CHARS_PER_TOKEN)


def load_catalog(path: Path) -> Catalog:
    """Load and validate a catalog file; errors name the file and the field."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read catalog ({exc.strerror})") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML ({_yaml_where(exc)})") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: a catalog is a mapping with an 'endpoints' list")
    try:
        return Catalog.model_validate(raw)
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            where = _location(raw, error["loc"])
            problems.append(f"{where}: {error['msg']}")
        raise ConfigError(f"{path}: invalid catalog: " + "; ".join(problems)) from None


def _location(raw: dict[str, Any], loc: tuple[int | str, ...]) -> str:
    """Name a field as ``endpoints[deepseek-v4-flash].price.input_per_mtok``."""
    parts: list[str] = []
    node: Any = raw
    for key in loc:
        if isinstance(key, int) and isinstance(node, list) and key < len(node):
            item = node[key]
            label = item.get("id") if isinstance(item, dict) else None
            parts[-1] += f"[{label or key}]"
            node = item
        else:
            parts.append(str(key))
            node = node.get(key) if isinstance(node, dict) else None
    return ".".join(parts) or "catalog"


def _yaml_where(exc: yaml.YAMLError) -> str:
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or "syntax error"
    if mark is not None:
        return f"line {mark.line + 1}, column {mark.column + 1}: {problem}"
    return str(problem)
