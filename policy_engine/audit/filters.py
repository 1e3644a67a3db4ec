"""Which decisions to read: one filter model shared by the HTTP API and the CLI.

Times are RFC 3339 (``2026-11-22T10:00:00Z``) or dates (``2026-11-22``, midnight
UTC); a time without offset is UTC. ``since`` is inclusive, ``until`` exclusive.
Cursors are opaque to clients: they encode the last sequence a page returned.
"""

from __future__ import annotations

import base64
import binascii
from datetime import UTC, date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from policy_engine.audit.checkpoints import utc_now_text
from policy_engine.errors import RequestError

MAX_LIMIT = 1000
DEFAULT_LIMIT = 100
_CURSOR_PREFIX = "seq:"


def parse_moment(value: str | datetime | date) -> str:
    """A time or date as the log's time text (UTC, microseconds, ``Z``)."""
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
    return utc_now_text(moment)


class AuditFilters(BaseModel):
    """Filters on decisions; every one given must match (AND)."""

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

    @field_validator("since", "until", mode="before")
    @classmethod
    def _moment(cls, value: object) -> object:
        if value is None:
            return None
        if isinstance(value, str | datetime | date):
            return parse_moment(value)
        raise ValueError("must be a date or time")


def encode_cursor(sequence: int) -> str:
    return base64.urlsafe_b64encode(f"{_CURSOR_PREFIX}{sequence}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> int:
    """The sequence a cursor stands for; :class:`RequestError` if it is not one of ours."""
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode("ascii")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        text = ""
    number = text.removeprefix(_CURSOR_PREFIX)
    if not text.startswith(_CURSOR_PREFIX) or not number.isdigit():
        raise RequestError("cursor is not valid; pass the next_cursor of a previous page")
    return int(number)
