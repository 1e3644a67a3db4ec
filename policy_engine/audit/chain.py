"""Canonical JSON and the hash chain that makes the audit log tamper-evident.

``hash`` is the SHA-256 of the record's canonical JSON without its ``hash`` field;
``prev_hash`` is the previous record's ``hash`` (:data:`GENESIS_HASH` for the first).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

import orjson

from policy_engine.records import canonical_json

__all__ = ["GENESIS_HASH", "canonical_json", "parse_record", "record_hash", "seal"]

GENESIS_HASH = "0" * 64


def record_hash(record: Mapping[str, Any]) -> str:
    """The hash of a record: SHA-256 over its canonical JSON without ``hash``."""
    body = {key: value for key, value in record.items() if key != "hash"}
    return hashlib.sha256(canonical_json(body).encode("utf-8")).hexdigest()


def seal(entry: Mapping[str, Any], sequence: int, prev_hash: str) -> dict[str, Any]:
    """Complete an entry into a chained record with ``sequence``, ``prev_hash`` and ``hash``."""
    record = dict(entry)
    record["sequence"] = sequence
    record["prev_hash"] = prev_hash
    record.pop("hash", None)
    record["hash"] = record_hash(record)
    return record


def parse_record(text: str) -> dict[str, Any]:
    """A stored record's JSON (orjson for speed; the standard parser for anything it
    refuses, such as integers beyond 64 bits). Raises ``ValueError`` if it is not JSON."""
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError:
        value = json.loads(text)
    if not isinstance(value, dict):
        raise ValueError("a record is a JSON object")
    return value
