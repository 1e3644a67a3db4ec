"""The append-only decision log: chain hashing, stores, verification."""

from policy_engine.audit.chain import GENESIS_HASH, canonical_json, record_hash, seal
from policy_engine.audit.sqlite_store import SQLiteAuditStore
from policy_engine.audit.verify import VerifyReport, verify_rows
from policy_engine.audit.verify_log import verify_store

__all__ = [
    "GENESIS_HASH",
    "SQLiteAuditStore",
    "VerifyReport",
    "canonical_json",
    "record_hash",
    "seal",
    "verify_rows",
    "verify_store",
]
