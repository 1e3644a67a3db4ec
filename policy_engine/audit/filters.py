"""Paging through the log: limits and cursors, shared by the HTTP API and the CLI, and the
filters as SQL.

The filters themselves are :class:`~policy_engine.records.AuditFilters` (the core's
vocabulary); :func:`where_clause` turns them into the condition the SQL stores query
with. Cursors are opaque to clients: they encode the last sequence a page returned.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

from policy_engine.errors import RequestError
from policy_engine.records import AuditFilters

MAX_LIMIT = 1000
DEFAULT_LIMIT = 100
_CURSOR_PREFIX = "seq:"


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


_EQUAL_COLUMNS = ("segment", "outcome", "tenant", "application", "policy_revision")


def where_clause(filters: AuditFilters) -> tuple[str, list[Any]]:
    """The SQL condition (``?`` placeholders) on ``decisions`` and its parameters."""
    clauses = ["1 = 1"]
    params: list[Any] = []
    if filters.kind != "all":
        clauses.append("decisions.kind = ?")
        params.append(filters.kind)
    if filters.since is not None:
        clauses.append("decisions.time >= ?")
        params.append(filters.since)
    if filters.until is not None:
        clauses.append("decisions.time < ?")
        params.append(filters.until)
    for column in _EQUAL_COLUMNS:
        value = getattr(filters, column)
        if value is not None:
            clauses.append(f"decisions.{column} = ?")
            params.append(value)
    if filters.rule is not None:
        clauses.append(
            "EXISTS (SELECT 1 FROM decision_rules r"
            " WHERE r.sequence = decisions.sequence AND r.rule = ?)"
        )
        params.append(filters.rule)
    if filters.entity_type is not None:
        clauses.append(
            "EXISTS (SELECT 1 FROM decision_entities e"
            " WHERE e.sequence = decisions.sequence AND e.entity_type = ?)"
        )
        params.append(filters.entity_type)
    return " AND ".join(clauses), params
