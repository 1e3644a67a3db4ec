"""The YAML policy format: pydantic models that security teams write against.

A YAML policy file (any ``*.yaml``/``*.yml`` under the policy directory other than
``*_test.yaml``) is one :class:`YamlPolicy`::

    version: 1
    name: health_data               # the Rego package: segmentation.rules.health_data
    description: Health records stay on-prem.
    rules:
      - id: health_data.medical     # unique; starts with "<name>."
        message: medical identifiers stay on-prem
        when:                       # every condition given must hold (none: always)
          entity_types: [MEDICAL_LICENSE, UK_NHS]   # a finding of one of these types ...
          categories: [pii]                          # ... and of one of these categories ...
          min_score: 0.8                             # ... scored at least this ...
          min_count: 1                               # ... counted this often in total
          context:                                   # request context, one of the values
            tenant: [acme]
            purpose: [analytics]
        segment: on_prem_only       # a segment floor, and/or
        exclude_endpoints:          # endpoints ruled out: every attribute given must match
          jurisdiction: [CN]
          provenance: {dpa: [false, null]}          # null matches an absent attribute
        obligations: ["redact:EMAIL_ADDRESS"]       # and/or strings passed to the caller

:mod:`.yaml_compile` turns it into a Rego module; :mod:`.yaml_load` reads it with errors that
name the file, line and field. ``policy_engine/policy/yaml_schema.json`` is generated from
these models (:func:`json_schema`).
"""

from __future__ import annotations

import json
import re
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from policy_engine.models import Category, RequestContext, Segment

_NAME = re.compile(r"[a-z][a-z0-9_]*")
_ENTITY_TYPE = re.compile(r"[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)*")
_RULE_ID = re.compile(r"[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*")


def _name(value: str) -> str:
    if not _NAME.fullmatch(value):
        raise ValueError(f"{value!r} is not a name in lower_snake_case (e.g. health_data)")
    return value


#: Rego keywords cannot name a package part.
_REGO_KEYWORDS = frozenset(
    [
        "as",
        "contains",
        "default",
        "else",
        "every",
        "false",
        "if",
        "import",
        "in",
        "not",
        "null",
        "package",
        "some",
        "true",
        "with",
    ]
)


def _policy_name(value: str) -> str:
    _name(value)
    if value in _REGO_KEYWORDS:
        raise ValueError(f"{value!r} is a Rego keyword; choose another name")
    return value


def _entity_type(value: str) -> str:
    if not _ENTITY_TYPE.fullmatch(value):
        raise ValueError(f"{value!r} is not an entity type in UPPER_SNAKE_CASE (e.g. US_SSN)")
    return value


def _rule_id(value: str) -> str:
    if not _RULE_ID.fullmatch(value):
        raise ValueError(f"{value!r} is not a rule id like <policy name>.<rule> (e.g. hr.salary)")
    return value


PolicyName = Annotated[str, Field(max_length=60), AfterValidator(_policy_name)]
EntityType = Annotated[str, Field(max_length=100), AfterValidator(_entity_type)]
RuleId = Annotated[str, Field(max_length=120), AfterValidator(_rule_id)]
Text = Annotated[str, Field(min_length=1, max_length=500)]
#: An endpoint attribute value to match; ``null`` matches an absent attribute.
AttributeValue = str | bool | int | float | None
ValueList = Annotated[list[Text], Field(min_length=1)]
AttributeList = Annotated[list[AttributeValue], Field(min_length=1)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ContextMatch(_Strict):
    """Request-context conditions: the field must be present and equal one of the values."""

    tenant: ValueList | None = None
    application: ValueList | None = None
    purpose: ValueList | None = None
    declared_classification: ValueList | None = None


class When(_Strict):
    """When a rule fires. Finding conditions select findings (type, category, score) whose
    counts must add up to ``min_count``; context conditions look at the request."""

    entity_types: Annotated[list[EntityType], Field(min_length=1)] | None = None
    categories: Annotated[list[Category], Field(min_length=1)] | None = None
    min_score: Annotated[float, Field(ge=0.0, le=1.0)] | None = None
    min_count: Annotated[int, Field(ge=1, le=1_000_000)] | None = None
    context: ContextMatch | None = None

    @property
    def matches_findings(self) -> bool:
        """Whether the rule needs at least one selected finding."""
        return any(v is not None for v in (self.entity_types, self.categories, self.min_score)) or (
            self.min_count is not None
        )


class EndpointMatch(_Strict):
    """Catalog endpoints to exclude: every attribute given must equal one of its values."""

    id: AttributeList | None = None
    deployment: (
        Annotated[list[Literal["on_prem", "trusted_hosted", "public_hosted"]], Field(min_length=1)]
        | None
    ) = None
    jurisdiction: AttributeList | None = None
    vendor: AttributeList | None = None
    model: AttributeList | None = None
    #: Provenance fields (``weights_source``, ``weights_sha256``, ``dpa``, ``zero_data_retention``,
    #: or any other the catalog carries).
    provenance: dict[Annotated[str, AfterValidator(_name)], AttributeList] | None = None

    def attributes(self) -> list[tuple[tuple[str, ...], list[AttributeValue]]]:
        """(attribute path, accepted values) for every condition, in a stable order."""
        found: list[tuple[tuple[str, ...], list[AttributeValue]]] = []
        for field in ("id", "deployment", "jurisdiction", "vendor", "model"):
            values = getattr(self, field)
            if values is not None:
                found.append(((field,), list(values)))
        for key, values in sorted((self.provenance or {}).items()):
            found.append((("provenance", key), list(values)))
        return found

    @model_validator(mode="after")
    def _not_empty(self) -> EndpointMatch:
        if not self.attributes():
            raise ValueError("give at least one endpoint attribute (e.g. deployment, vendor)")
        return self


class YamlRule(_Strict):
    """One rule: a condition and at least one effect."""

    id: RuleId
    message: Text
    description: str | None = None
    when: When = Field(default_factory=When)
    segment: Segment | None = None
    exclude_endpoints: EndpointMatch | None = None
    obligations: Annotated[list[Text], Field(min_length=1)] | None = None

    @model_validator(mode="after")
    def _has_effect(self) -> YamlRule:
        if self.segment is None and self.exclude_endpoints is None and self.obligations is None:
            raise ValueError("a rule needs segment, exclude_endpoints or obligations")
        return self


class YamlPolicy(_Strict):
    """One YAML policy file: a rule module ``segmentation.rules.<name>``."""

    version: Literal[1] = 1
    name: PolicyName
    description: str | None = None
    rules: Annotated[list[YamlRule], Field(min_length=1)]

    @model_validator(mode="after")
    def _ids(self) -> YamlPolicy:
        seen: set[str] = set()
        for index, rule in enumerate(self.rules):
            if not rule.id.startswith(f"{self.name}."):
                raise ValueError(
                    f"rules[{index}].id {rule.id!r} must start with the policy name ({self.name}.)"
                )
            if rule.id in seen:
                raise ValueError(f"rules[{index}].id {rule.id!r} is used twice")
            seen.add(rule.id)
        return self


# ---------------------------------------------------------------------------- test cases


class CaseFinding(_Strict):
    type: EntityType
    category: Category
    count: Annotated[int, Field(ge=1)] = 1
    max_score: Annotated[float, Field(ge=0.0, le=1.0)] = 1.0
    detector: str = "test"


class Expectation(_Strict):
    """What the decision must be. ``allowed`` and ``obligations`` are exact (any order);
    ``excluded`` and ``rules`` must be among the excluded endpoints and fired rules;
    ``not_rules`` must not fire."""

    segment: Segment | None = None
    allowed: list[str] | None = None
    excluded: list[str] | None = None
    rules: list[str] | None = None
    not_rules: list[str] | None = None
    obligations: list[str] | None = None


class YamlCase(_Strict):
    name: Text
    findings: list[CaseFinding] = Field(default_factory=list)
    context: RequestContext = Field(default_factory=RequestContext)
    characters: Annotated[int, Field(ge=0)] = 100
    expect: Expectation


class YamlCaseFile(_Strict):
    """A ``*_test.yaml`` file: decisions of the whole policy set on the configured catalog."""

    version: Literal[1] = 1
    cases: Annotated[list[YamlCase], Field(min_length=1)]


def json_schema() -> dict[str, Any]:
    """The published JSON Schema of a YAML policy file."""
    schema = YamlPolicy.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = "https://policy-engine.invalid/schemas/yaml-policy-v1.json"
    schema["title"] = "policy-engine YAML policy"
    return schema


def json_schema_text() -> str:
    return json.dumps(json_schema(), indent=2, sort_keys=True) + "\n"
