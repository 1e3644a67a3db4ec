"""The audit log's vocabulary: the record each decision leaves, checkpoints, filters.

:class:`AuditRecord` is built in one place (the engine) and read everywhere else (the
stores' index columns, replay, export, the CLI and the API), always through its fields.
Its JSON form (:meth:`AuditRecord.document`) is what the chain hashes, so it holds only
what the record was given: records written before a field existed verify and read as
they were written. Like OPA's decision event the record is versioned
(:data:`RECORD_VERSION`), snake_case, and fields are only ever added.

No record ever holds a matched value: types, offsets, scores and keyed digests.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from policy_engine.models import (
    AuditReceipt,
    Decision,
    DecisionFields,
    Finding,
    RequestContext,
)

#: The version of the records this engine writes. 1: records without ``record_version``
#: (before the detector revision was recorded); 2: adds ``record_version`` and
#: ``detector_revision``; 3: adds ``kind``, ``delivers`` and ``delivery`` (delivery records).
RECORD_VERSION = 3

#: What a record is: a decision (``kind`` absent, as in every record before version 3) or
#: the delivery of one (what the routing proxy observed when it forwarded the request).
RecordKind = Literal["decision", "delivery"]


def canonical_json(document: Mapping[str, Any]) -> str:
    """Sorted keys, no insignificant whitespace, UTF-8 kept as is: what the chain hashes."""
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def utc_text(moment: datetime | None = None) -> str:
    """RFC 3339 UTC with microseconds, the format of every time in the log."""
    moment = moment if moment is not None else datetime.now(UTC)
    return moment.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def parse_time(text: str) -> datetime:
    """A time of the log (:func:`utc_text`) as an aware datetime."""
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


# --------------------------------------------------------------------------- the record


class AuditedFinding(Finding):
    """A finding as the log keeps it: with the keyed digest of each matched value."""

    model_config = ConfigDict(extra="allow")

    value_digests: list[str] = Field(default_factory=list)

    @classmethod
    def of(cls, finding: Finding, digests: list[str]) -> AuditedFinding:
        """``finding`` with its values' digests (fields that are None are left out)."""
        given = {name: value for name, value in finding.__dict__.items() if value is not None}
        return cls(**given, value_digests=digests)

    def finding(self) -> Finding:
        """The finding without its digests, as the answer carries it (its fields were
        validated when this one was, so they are not validated again)."""
        fields = self.__dict__
        return Finding.model_construct(**{name: fields[name] for name in _FINDING_FIELDS})


_FINDING_FIELDS = tuple(Finding.model_fields)


class AuditedContext(RequestContext):
    """The request context as the log keeps it: ``user`` is a keyed digest. Fields a later
    version adds are kept when read by this one."""

    model_config = ConfigDict(extra="allow")


AttemptResult = Literal["ok", "http_429", "http_5xx", "http_4xx", "timeout", "connection_error"]


class Attempt(BaseModel):
    """One call of an upstream: which endpoint, how it ended, how long it took."""

    model_config = ConfigDict(extra="allow")

    endpoint: str
    result: AttemptResult
    status: int | None = None
    latency_ms: float


class Usage(BaseModel):
    """Tokens as the upstream counted them."""

    model_config = ConfigDict(extra="allow")

    prompt_tokens: int
    completion_tokens: int
    total_tokens: int


class Delivery(BaseModel):
    """What happened when a decision was acted on (docs/proxy.md, "The delivery record")."""

    model_config = ConfigDict(extra="allow")

    #: The catalog id of the endpoint that answered; None when none did.
    endpoint: str | None
    #: The model name sent upstream (of the endpoint that answered, else the last tried).
    upstream_model: str | None
    attempts: list[Attempt]
    #: None when the upstream did not report usage.
    usage: Usage | None
    stream: bool
    #: Entity types replaced by placeholders before forwarding (never the values).
    masked_types: list[str]
    tier: str | None


class AuditRecord(DecisionFields):
    """One record in the log: a decision, or (``kind`` "delivery") what became of one;
    ``sequence``, ``prev_hash`` and ``hash`` are set when the store appends it
    (:meth:`sealed`)."""

    model_config = ConfigDict(extra="allow")

    record_version: int = 1
    time: str
    caller: str
    context: AuditedContext = Field(default_factory=AuditedContext)
    content_digest: str
    content_characters: int
    findings: list[AuditedFinding] = Field(default_factory=list)  # type: ignore[assignment]
    engine_version: str
    latency_ms: float
    #: What a shadow policy set decided on the same input (policy/shadow.py).
    shadow: dict[str, Any] | None = None
    #: Ids an entry point ties the decision to (e.g. ``litellm_call_id``); never content.
    correlation: dict[str, str] | None = None
    #: ``delivery`` for a delivery record; absent (None) for a decision.
    kind: RecordKind | None = None
    #: A delivery record's decision (its ``decision_id``).
    delivers: str | None = None
    delivery: Delivery | None = None
    sequence: int | None = None
    prev_hash: str | None = None
    hash: str | None = None

    def document(self) -> dict[str, Any]:
        """The record as JSON-ready data: the fields it was given or read with, optional
        ones (default None) only when they hold a value: a field added later is absent from
        records written before it, and a record without a shadow or a detection report
        says nothing about them."""
        data = self.model_dump(mode="json", exclude_unset=True)
        for name in _ABSENT_WHEN_NONE.intersection(data):
            if data[name] is None:
                del data[name]
        return data

    def sealed(self, sequence: int, prev_hash: str, record_hash: str) -> AuditRecord:
        """This record as stored at ``sequence`` after ``prev_hash``, with its hash."""
        return self.model_copy(
            update={"sequence": sequence, "prev_hash": prev_hash, "hash": record_hash}
        )

    @property
    def record_kind(self) -> RecordKind:
        return self.kind or "decision"

    def delivered(self, delivery: Delivery, *, decision_id: str, latency_ms: float) -> AuditRecord:
        """The delivery record of this decision: its decision fields, context and content
        digest, no findings (the decision holds them), ``delivery``; its own id and time.
        ``latency_ms`` is the time from the decision to the end of the exchange."""
        fields = self.__dict__
        copied = {name: fields[name] for name in _DELIVERY_COPIES}
        return AuditRecord(
            **copied,
            record_version=RECORD_VERSION,
            decision_id=decision_id,
            time=utc_text(),
            findings=[],
            latency_ms=latency_ms,
            kind="delivery",
            delivers=self.decision_id,
            delivery=delivery,
        )

    @property
    def rules(self) -> list[str]:
        """The rule ids among the reasons, sorted and distinct."""
        return sorted({reason.rule for reason in self.reasons})

    @property
    def entity_types(self) -> list[str]:
        """The entity types among the findings, sorted and distinct."""
        return sorted({finding.type for finding in self.findings})

    def summary(self) -> dict[str, str]:
        """The record's main fields as text, for tables and CSV exports."""
        return {
            "sequence": str(self.sequence),
            "decision_id": self.decision_id,
            "time": self.time,
            "tenant": self.context.tenant or "",
            "application": self.context.application or "",
            "segment": self.segment.value,
            "outcome": self.outcome,
            "rules": " ".join(self.rules),
            "entity_types": " ".join(self.entity_types),
            "policy_revision": self.policy_revision,
            "prev_hash": self.prev_hash or "",
            "hash": self.hash or "",
        }

    def receipt(self) -> AuditReceipt:
        if self.sequence is None or self.hash is None:
            raise ValueError("the record has not been appended to a log")
        return AuditReceipt(sequence=self.sequence, hash=self.hash)

    def decision(self) -> Decision:
        """The answer the caller gets: the decision's fields, the findings without their
        digests, and the receipt of the appended record."""
        fields = self.__dict__
        shared = {name: fields[name] for name in _DECISION_FIELDS}
        shared["findings"] = [finding.finding() for finding in self.findings]
        return Decision(**shared, audit=self.receipt())


_DECISION_FIELDS = tuple(DecisionFields.model_fields)
#: What a delivery record copies from its decision.
_DELIVERY_COPIES = tuple(
    name
    for name in AuditRecord.model_fields
    if name
    not in {"record_version", "decision_id", "time", "findings", "latency_ms", "detection",
            "shadow", "kind", "delivers", "delivery", "sequence", "prev_hash", "hash"}
)  # fmt: skip
_ABSENT_WHEN_NONE = frozenset(
    name
    for name, info in AuditRecord.model_fields.items()
    if not info.is_required() and info.default is None
)


def parse_audit_record(text: str) -> AuditRecord:
    """A stored record (canonical JSON); ``ValueError`` when it is not a readable record."""
    return AuditRecord.model_validate_json(text)


# --------------------------------------------------------------------------- checkpoints

#: Prefix of every signed message, so a checkpoint signature can never be mistaken
#: for a signature over anything else.
CHECKPOINT_DOMAIN = "policy-engine audit checkpoint v1\n"


def checkpoint_message(sequence: int, head_hash: str, time: str) -> bytes:
    """The bytes a checkpoint's signature covers."""
    body = canonical_json({"hash": head_hash, "sequence": sequence, "time": time})
    return (CHECKPOINT_DOMAIN + body).encode("utf-8")


@dataclass(frozen=True)
class Checkpoint:
    """A signed head of the log: it once reached ``sequence`` with ``hash``."""

    sequence: int
    hash: str
    time: str
    key_id: str
    signature: str

    def message(self) -> bytes:
        return checkpoint_message(self.sequence, self.hash, self.time)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


# --------------------------------------------------------------------------- filters


def parse_moment(value: str | datetime | date) -> str:
    """A time or date as the log's time text (UTC, microseconds, ``Z``); a date is its
    midnight UTC, a time without offset is UTC."""
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        moment = datetime(value.year, value.month, value.day)
    else:
        text = value.strip()
        try:
            moment = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
        except ValueError:
            raise ValueError(
                f"{value!r} is not a date or time; use e.g. 2026-11-22 or 2026-11-22T10:00:00Z"
            ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return utc_text(moment)


class AuditFilters(BaseModel):
    """Filters on decisions; every one given must match (AND). ``since`` is inclusive,
    ``until`` exclusive."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    since: str | None = Field(default=None, description="From this time on (inclusive).")
    until: str | None = Field(default=None, description="Before this time (exclusive).")
    segment: Literal["any", "trusted_hosted", "on_prem_only"] | None = None
    outcome: Literal["decided", "fail_closed"] | None = None
    tenant: str | None = Field(default=None, min_length=1, max_length=200)
    application: str | None = Field(default=None, min_length=1, max_length=200)
    rule: str | None = Field(
        default=None, min_length=1, max_length=200, description="A rule id among the reasons."
    )
    entity_type: str | None = Field(
        default=None, min_length=1, max_length=100, description="An entity type among findings."
    )
    policy_revision: str | None = Field(default=None, min_length=1, max_length=200)
    kind: Literal["decision", "delivery", "all"] = Field(
        default="decision",
        description="Decision records (the default), delivery records, or all records.",
    )

    @field_validator("since", "until", mode="before")
    @classmethod
    def _moment(cls, value: object) -> object:
        if value is None:
            return None
        if isinstance(value, str | datetime | date):
            return parse_moment(value)
        raise ValueError("must be a date or time")
