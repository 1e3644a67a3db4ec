"""Pydantic contracts at the engine's boundaries (see ARCHITECTURE.md).

Request → :class:`DecideRequest`; what detection produces → :class:`Finding`;
what a policy returns → :class:`PolicyResult`; what the caller gets →
:class:`Decision`. What the audit log keeps, :class:`~policy_engine.records.AuditRecord`,
shares the decision's fields (:class:`DecisionFields`).
No model here ever carries a matched value: only types, offsets, scores and
keyed digests.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator


class Segment(StrEnum):
    """Where content may go, ordered by restrictiveness."""

    ANY = "any"
    TRUSTED_HOSTED = "trusted_hosted"
    ON_PREM_ONLY = "on_prem_only"

    @property
    def rank(self) -> int:
        return _SEGMENT_RANK[self]

    def admits(self, deployment: str) -> bool:
        """Whether an endpoint of this deployment class may receive content of this segment."""
        return deployment in _ADMITTED[self]

    @classmethod
    def strictest(cls, *segments: Segment) -> Segment:
        return max(segments, key=lambda s: s.rank, default=cls.ANY)


_SEGMENT_RANK = {Segment.ANY: 0, Segment.TRUSTED_HOSTED: 1, Segment.ON_PREM_ONLY: 2}
_ADMITTED = {
    Segment.ON_PREM_ONLY: frozenset({"on_prem"}),
    Segment.TRUSTED_HOSTED: frozenset({"on_prem", "trusted_hosted"}),
    Segment.ANY: frozenset({"on_prem", "trusted_hosted", "public_hosted"}),
}

Category = Literal["pii", "secret", "ip_marker", "source_code"]
CATEGORIES: tuple[str, ...] = ("pii", "secret", "ip_marker", "source_code")

#: Routing tiers, most capable first: ``advanced`` (frontier models for complex, regulated
#: or mission-critical work), ``balanced`` (everyday chat and reasoning), ``practical``
#: (cheap open-weight models for high-volume routine tasks).
Tier = Literal["advanced", "balanced", "practical"]
TIERS: tuple[Tier, ...] = ("advanced", "balanced", "practical")


# --------------------------------------------------------------------------- request


class RequestContext(BaseModel):
    """Who is asking and for what. Every field is optional; unknown keys are rejected."""

    model_config = ConfigDict(extra="forbid")

    tenant: str | None = Field(default=None, max_length=200)
    application: str | None = Field(default=None, max_length=200)
    user: str | None = Field(default=None, max_length=200)
    purpose: str | None = Field(default=None, max_length=200)
    declared_classification: str | None = Field(default=None, max_length=100)
    requested_endpoint: str | None = Field(default=None, max_length=200)
    max_output_tokens: int | None = Field(default=None, ge=0, le=10_000_000)
    #: The routing tier asked for: ranking puts the cheapest allowed endpoint of the tier
    #: first (policies may choose one with a ``tier:NAME`` obligation when this is unset).
    tier: Tier | None = None


class ContentPart(BaseModel):
    """One part of an OpenAI-style message whose content is a list."""

    model_config = ConfigDict(extra="allow")

    type: str
    text: str | None = None


class ToolCallFunction(BaseModel):
    model_config = ConfigDict(extra="allow")

    name: str | None = None
    arguments: str | None = None


class ToolCall(BaseModel):
    model_config = ConfigDict(extra="allow")

    id: str | None = None
    type: str | None = None
    function: ToolCallFunction | None = None


class Message(BaseModel):
    """An OpenAI chat message: system, user, assistant or tool."""

    model_config = ConfigDict(extra="allow")

    role: str = Field(min_length=1, max_length=50)
    content: str | list[ContentPart] | None = None
    name: str | None = None
    tool_calls: list[ToolCall] | None = None
    tool_call_id: str | None = None

    def texts(self) -> list[tuple[int | None, str]]:
        """Every scannable text of the message (:func:`message_texts`)."""
        return message_texts(_as_mapping(self) or {})


def message_texts(message: Mapping[str, Any]) -> list[tuple[int | None, str]]:
    """Every scannable text of a chat message, as ``(part index or None, text)``: the one
    definition of a message's text, for scanning and for the request limits alike
    (:mod:`policy_engine.intake`). ``message`` is JSON data; its objects may also be the
    models above (a validated message's parts).

    Plain string content has part ``None``; list content yields the texts of each part
    with its index (``text``, and a tool result's nested ``content``, a tool use's
    ``input``, ``arguments``); tool-call arguments follow the content parts, numbered
    after them, then a legacy ``function_call``'s arguments and a ``refusal``.
    """
    out: list[tuple[int | None, str]] = []
    content = message.get("content")
    parts_seen = 0
    if isinstance(content, str):
        out.append((None, content))
    elif isinstance(content, list):
        for index, item in enumerate(content):
            part = _as_mapping(item)
            if part is not None:
                out.extend((index, text) for text in _part_texts(part))
        parts_seen = len(content)
    calls = message.get("tool_calls")
    calls = calls if isinstance(calls, list) else []
    for offset, item in enumerate(calls):
        call = _as_mapping(item)
        function = _as_mapping(call.get("function")) if call is not None else None
        arguments = function.get("arguments") if function is not None else None
        if isinstance(arguments, str) and arguments:
            out.append((parts_seen + offset, arguments))
    function_call = _as_mapping(message.get("function_call"))
    more = [
        _nested_texts(function_call.get("arguments")) if function_call is not None else [],
        _nested_texts(message.get("refusal")),
    ]
    next_part = parts_seen + len(calls)
    for texts in more:
        if texts:
            out.extend((next_part, text) for text in texts)
            next_part += 1
    return out


def _as_mapping(value: Any) -> Mapping[str, Any] | None:
    """A JSON object's members: a dict as it is, a model's fields and extra fields."""
    if type(value) is dict:
        return value
    if value is None or type(value) in (str, list, int, float, bool):
        return None
    if isinstance(value, BaseModel):
        return {**value.__dict__, **(value.__pydantic_extra__ or {})}
    return value if isinstance(value, Mapping) else None


#: Fields of a content part (besides ``text``) whose values are content to scan.
_CONTENT_PART_FIELDS = ("content", "input", "arguments")


def _part_texts(part: Mapping[str, Any]) -> list[str]:
    """A content part's text and the content in its other fields (tool results, tool input)."""
    text = part.get("text")
    out = [text] if isinstance(text, str) and text else []
    for key in _CONTENT_PART_FIELDS:
        out.extend(_nested_texts(part.get(key)))
    return out


def _nested_texts(value: Any) -> list[str]:
    """Texts inside a part's field: a string, parts with ``text``/``content``, or JSON."""
    if value is None:
        return []
    if isinstance(value, str):
        return [value] if value else []
    if isinstance(value, list):
        return [text for item in value for text in _nested_texts(item)]
    if isinstance(value, dict):
        if "text" in value or "content" in value:
            return [text for key in ("text", "content") for text in _nested_texts(value.get(key))]
        return [json.dumps(value, ensure_ascii=False, sort_keys=True)]
    return []


class DecideRequest(BaseModel):
    """Body of ``POST /decide``: exactly one of ``content`` or ``messages``."""

    model_config = ConfigDict(extra="forbid")

    content: str | None = None
    messages: list[Message] | None = None
    context: RequestContext = Field(default_factory=RequestContext)

    @model_validator(mode="after")
    def _exactly_one_source(self) -> DecideRequest:
        if self.content is None and self.messages is None:
            raise ValueError("give either 'content' (a string) or 'messages' (a chat)")
        if self.content is not None and self.messages is not None:
            raise ValueError("give either 'content' or 'messages', not both")
        if self.content is not None and not self.content.strip():
            raise ValueError("'content' is empty; put the text to check in it")
        if self.messages is not None:
            if not self.messages:
                raise ValueError("'messages' is empty")
            if not any(text.strip() for m in self.messages for _, text in m.texts()):
                raise ValueError("'messages' contain no text")
        return self

    def segments_to_scan(self) -> list[ScanUnit]:
        """The texts to scan, each with where it came from."""
        if self.content is not None:
            return [ScanUnit(text=self.content)]
        units = []
        for index, message in enumerate(self.messages or []):
            for part, text in message.texts():
                units.append(ScanUnit(text=text, message=index, part=part))
        return units


class ScanUnit(BaseModel):
    """One text to scan and where it sits in the request."""

    text: str
    message: int | None = None
    part: int | None = None


# --------------------------------------------------------------------------- findings


class Finding(BaseModel):
    """All matches of one entity type by one detector in one scanned text. Never the value."""

    type: str
    category: Category
    count: int = Field(ge=1)
    max_score: float = Field(ge=0.0, le=1.0)
    spans: list[tuple[int, int]]
    detector: str
    message: int | None = None
    part: int | None = None
    #: Set when the matches sat inside an encoded payload: ``base64``, ``hex``, ``url``
    #: (nested encodings joined by ``+``, outermost first).
    encoded: str | None = None

    def policy_view(self) -> dict[str, Any]:
        """The finding as policies see it: without spans."""
        return self.model_dump(exclude={"spans"}, exclude_none=True)


class DetectedSpan(BaseModel):
    """One raw match from a detector, before aggregation. Lives only inside a request."""

    type: str
    category: Category
    start: int
    end: int
    score: float
    detector: str
    #: The encoding of the payload the match was decoded from (see ``Finding.encoded``).
    encoded: str | None = None


# --------------------------------------------------------------------------- policy


class Reason(BaseModel):
    rule: str
    segment: Segment
    message: str


class Exclusion(BaseModel):
    endpoint: str
    rule: str
    message: str


class PolicyResult(BaseModel):
    """``data.segmentation.decision`` as the core Rego module returns it."""

    segment: Segment
    reasons: list[Reason] = Field(default_factory=list)
    excluded: list[Exclusion] = Field(default_factory=list)
    obligations: list[str] = Field(default_factory=list)

    @field_validator("reasons", "excluded", "obligations", mode="before")
    @classmethod
    def _none_is_empty(cls, value: Any) -> Any:
        return [] if value is None else value


# --------------------------------------------------------------------------- decision


class ExcludedEndpoint(BaseModel):
    id: str
    reasons: list[str]


class AuditReceipt(BaseModel):
    sequence: int
    hash: str


class SkippedStage(BaseModel):
    """A detection stage that did not run for a decision, and why."""

    stage: str
    reason: str


class DetectionReport(BaseModel):
    """Which detection stages ran for a decision (cheapest first), and which were skipped.

    The ``presidio`` backend has two stages, ``patterns`` and ``ner``; ``ner`` is skipped
    when the ``patterns`` findings already force ``on_prem_only``, the strictest segment
    (names found by NER could not change the decision; they are then not in ``findings``).
    """

    stages: list[str]
    skipped: list[SkippedStage] = Field(default_factory=list)


class DecisionFields(BaseModel):
    """What the answer (:class:`Decision`) and the audit record
    (:class:`~policy_engine.records.AuditRecord`) share: a field added here is in both."""

    decision_id: str
    segment: Segment
    allowed_endpoints: list[str]
    recommended_endpoint: str | None
    requested_endpoint_allowed: bool | None
    excluded_endpoints: list[ExcludedEndpoint]
    findings: list[Finding]
    reasons: list[Reason]
    obligations: list[str]
    policy_revision: str
    #: The revision of the detector set that scanned the content (None in records written
    #: before it was recorded).
    detector_revision: str | None = None
    outcome: Literal["decided", "fail_closed"]
    detection: DetectionReport | None = None


class Decision(DecisionFields):
    """The answer of ``POST /decide``: built from the audit record the log now holds."""

    audit: AuditReceipt


class ErrorBody(BaseModel):
    """Every 4xx/5xx answer of the API."""

    error: str
    message: str
    details: list[dict[str, Any]] = Field(default_factory=list)
