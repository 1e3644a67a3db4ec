"""Pydantic contracts at the engine's boundaries (see ARCHITECTURE.md).

Request → :class:`DecideRequest`; what detection produces → :class:`Finding`;
what a policy returns → :class:`PolicyResult`; what the caller gets →
:class:`Decision`. What the audit log keeps, :class:`~policy_engine.records.AuditRecord`,
shares the decision's fields (:class:`DecisionFields`).
No model here ever carries a matched value: only types, offsets, scores and
keyed digests.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ModelWrapValidatorHandler,
    PrivateAttr,
    field_validator,
    model_validator,
)

from policy_engine.chat import FieldText, MessageTexts, read_message


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
    #: An integer (``"512"`` is refused, not read as a number).
    max_output_tokens: int | None = Field(default=None, ge=0, le=10_000_000, strict=True)
    #: The routing tier asked for: ranking puts the cheapest allowed endpoint of the tier
    #: first (policies may choose one with a ``tier:NAME`` obligation when this is unset).
    tier: Tier | None = None


class ContentPart(BaseModel):
    """One part of a message whose content is a list: OpenAI's ``text``, ``image_url``,
    ``input_audio``, ``file``, ``refusal``; Anthropic's ``text``, ``image``, ``document``,
    ``tool_use``, ``tool_result``, ``thinking``, ``redacted_thinking`` (each with its own
    fields, see :mod:`policy_engine.chat`). Every string in a part is scanned, or listed
    as unscanned when it is an image, audio or a file."""

    model_config = ConfigDict(extra="allow")

    type: str
    text: str | None = None


class ToolCallFunction(BaseModel):
    """A function call's name and its arguments (a JSON text): the arguments are scanned."""

    model_config = ConfigDict(extra="allow")

    name: str | None = None
    arguments: str | None = None


class ToolCall(BaseModel):
    model_config = ConfigDict(extra="allow")

    id: str | None = None
    type: str | None = None
    function: ToolCallFunction | None = None


class Message(BaseModel):
    """A chat message (OpenAI's format, with Anthropic's content blocks as parts). Every
    string anywhere in it is scanned (:mod:`policy_engine.chat`); fields it does not
    declare are scanned too, and refused only in strict mode."""

    model_config = ConfigDict(extra="allow")

    role: str = Field(min_length=1, max_length=50)
    content: str | list[ContentPart] | None = None
    name: str | None = None
    tool_calls: list[ToolCall] | None = None
    tool_call_id: str | None = None
    function_call: ToolCallFunction | None = Field(
        default=None, description="A legacy function call (its arguments are scanned)."
    )
    refusal: str | None = None
    reasoning_content: str | None = Field(
        default=None, description="A reasoning model's reasoning (DeepSeek's field)."
    )

    def read(self) -> MessageTexts:
        """Every string of the message (:func:`policy_engine.chat.read_message`)."""
        return read_message(self.model_dump(exclude_unset=True))


class Unscanned(BaseModel):
    """Content a request carries that cannot be scanned (an image, audio, a file, a document
    sent as data, a signature): its kind and where it is. Policies see these as
    ``input.unscanned``."""

    kind: str
    message: int | None = None
    path: str


class DecideRequest(BaseModel):
    """Body of ``POST /decide``: exactly one of ``content`` or ``messages``."""

    model_config = ConfigDict(extra="forbid")

    content: str | None = None
    messages: list[Message] | None = None
    context: RequestContext = Field(default_factory=RequestContext)
    #: What each message gives to scan, read once from the JSON it was validated from.
    _reads: list[MessageTexts] | None = PrivateAttr(default=None)

    @model_validator(mode="after")
    def _exactly_one_source(self) -> DecideRequest:
        if self.content is None and self.messages is None:
            raise ValueError("give either 'content' (a string) or 'messages' (a chat)")
        if self.content is not None and self.messages is not None:
            raise ValueError("give either 'content' or 'messages', not both")
        if self.content is not None and not self.content.strip():
            raise ValueError("'content' is empty; put the text to check in it")
        if self.messages is not None and not self.messages:
            raise ValueError("'messages' is empty")
        return self

    @model_validator(mode="wrap")
    @classmethod
    def _read_messages(
        cls, data: Any, handler: ModelWrapValidatorHandler[DecideRequest]
    ) -> DecideRequest:
        request = handler(data)
        if request.messages is None:
            return request
        raw = data.get("messages") if isinstance(data, dict) else None
        if isinstance(raw, list) and all(type(item) is dict for item in raw):
            request._reads = [read_message(item) for item in raw]
        reads = request.message_reads()
        if not any(
            any(text.strip() for _, _, text in r.texts) or r.other.strip() or r.unscanned
            for r in reads
        ):
            raise ValueError("'messages' contain no text")
        return request

    def message_reads(self) -> list[MessageTexts]:
        """What each message gives to scan (:func:`policy_engine.chat.read_message`)."""
        if self._reads is None:
            self._reads = [message.read() for message in self.messages or []]
        return self._reads

    def segments_to_scan(self) -> list[ScanUnit]:
        """The texts to scan, each with where it came from."""
        if self.content is not None:
            return [ScanUnit(text=self.content)]
        units = []
        for index, read in enumerate(self.message_reads()):
            for part, path, text in read.texts:
                units.append(ScanUnit(text=text, message=index, part=part, path=path))
            if read.other:
                units.append(ScanUnit(text=read.other, message=index, fields=read.fields))
        return units

    def unscanned(self) -> list[Unscanned]:
        """What the request carries that cannot be scanned."""
        return [
            Unscanned(kind=item.kind, message=index, path=item.path)
            for index, read in enumerate(self.message_reads())
            for item in read.unscanned
        ]


class ScanUnit(BaseModel):
    """One text to scan and where it sits in the request: a field (``path``), or, with
    ``fields``, a message's other strings, one line each (findings are then attributed to
    the field each span falls in)."""

    text: str
    message: int | None = None
    part: int | None = None
    path: str | None = None
    fields: list[FieldText] = Field(default_factory=list)


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
    #: The field of the message the text came from, e.g. ``content.1.text`` or ``name``.
    path: str | None = None
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
    #: What the request carries that could not be scanned (images, audio, files ...).
    unscanned: list[Unscanned] = Field(default_factory=list)


class Decision(DecisionFields):
    """The answer of ``POST /decide``: built from the audit record the log now holds."""

    audit: AuditReceipt


class ErrorBody(BaseModel):
    """Every 4xx/5xx answer of the API."""

    error: str
    message: str
    details: list[dict[str, Any]] = Field(default_factory=list)
