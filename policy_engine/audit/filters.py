"""Paging through the log: limits and cursors, shared by the HTTP API and the CLI.

The filters themselves are :class:`~policy_engine.records.AuditFilters` (the core's
vocabulary). Cursors are opaque to clients: they encode the last sequence a page returned.
"""

from __future__ import annotations

import base64
import binascii

from policy_engine.errors import RequestError

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
