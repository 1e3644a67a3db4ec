"""What the store keeps beside each record is derived in one place, from the record."""

from __future__ import annotations

from typing import Any

import pytest

from policy_engine.audit import seal
from policy_engine.audit.columns import (
    DECISION_COLUMNS,
    SIDE_TABLES,
    IndexedColumns,
    indexed_columns,
    insert_statement,
    of_document,
)
from policy_engine.audit.verify_log import FIELDS_DECODER
from policy_engine.records import AuditRecord, canonical_json
from tests.audit_support import entry

REASON = {"rule": "isolation.secrets", "segment": "on_prem_only", "message": "m"}
FINDING = {"type": "AWS_ACCESS_KEY", "category": "secret", "count": 1, "max_score": 1.0,
           "spans": [[0, 20]], "detector": "d"}  # fmt: skip


def sealed(record: AuditRecord) -> dict[str, Any]:
    return seal(record.document(), 7, "0" * 64)


@pytest.mark.parametrize(
    "overrides",
    [
        {},
        {"context": {}},
        {"context": {"tenant": "acme", "user": "hmac-sha256:x", "purpose": "support"}},
        {"reasons": [REASON, {**REASON, "rule": "a.first"}, REASON]},
        {"findings": [FINDING, {**FINDING, "type": "A_TYPE"}, FINDING]},
        {"shadow": {"segment": "any", "reasons": [{"rule": "shadow.only"}]}},
        {"kind": "delivery", "delivers": "01DECISION"},
    ],
)
def test_the_columns_say_what_the_record_says(overrides: dict[str, Any]) -> None:
    """Against the record's own fields, also as verify decodes it (only what it needs)."""
    record = entry(8, **overrides)
    document = sealed(record)
    columns = of_document(document)
    assert columns == IndexedColumns(
        record.decision_id,
        record.time,
        record.segment.value,
        record.outcome,
        record.context.tenant,
        record.context.application,
        record.policy_revision,
        document["hash"],
        record.record_kind,
        tuple(record.rules),
        tuple(record.entity_types),
    )
    assert indexed_columns(FIELDS_DECODER.decode(canonical_json(document))) == columns


def test_every_column_is_written_and_side_tables_come_last() -> None:
    """The insert names every column of IndexedColumns that is not a side table, so a
    field added there is stored (given its migration) and verified with no other change."""
    assert DECISION_COLUMNS + tuple(SIDE_TABLES) == IndexedColumns._fields
    statement = insert_statement()
    for column in DECISION_COLUMNS:
        assert f" {column}," in statement or f" {column})" in statement
    assert statement.count("?") == len(DECISION_COLUMNS) + 2


def test_a_document_that_is_not_a_record_is_refused() -> None:
    with pytest.raises(KeyError, match="segment"):
        of_document({"decision_id": "d", "time": "t", "outcome": "decided"})
