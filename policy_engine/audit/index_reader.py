"""Reading records with what is kept beside them, in batches, for verify.

A batch is the ``decisions`` rows after a sequence, each with its record and columns, and
every side-table row in the same range of sequences as a set of ``(sequence, value)``
pairs (one set per side table). The range of the first batch is open below and the range
of the last open above, so side-table rows whose sequence has no record are in a batch too.
Each batch is read in one read transaction.
"""

from __future__ import annotations

from typing import Any

from policy_engine.audit.columns import DECISION_COLUMNS, SIDE_TABLES
from policy_engine.audit.schema import Tx
from policy_engine.ports import IndexedBatch

_SELECT = (
    f"SELECT sequence, record, {', '.join(DECISION_COLUMNS)} FROM decisions"
    " WHERE sequence > ? ORDER BY sequence LIMIT ?"
)


def read_batch(tx: Tx, after: int | None, size: int) -> IndexedBatch:
    """At most ``size`` rows after ``after`` (None: from the start, and side-table rows at
    any sequence before) and the side-table rows up to the last of them (all that follow
    when the log ends in this batch)."""
    chunk = tx.execute(_SELECT, (after or 0, size))
    last = int(chunk[-1][0]) if len(chunk) == size else None
    where, params = ["1 = 1"], list[Any]()
    if after is not None:
        where.append("sequence > ?")
        params.append(after)
    if last is not None:
        where.append("sequence <= ?")
        params.append(last)
    bounds = " AND ".join(where)
    sides = tuple(
        frozenset(tx.execute(f"SELECT sequence, {column} FROM {table} WHERE {bounds}", params))
        for table, column in SIDE_TABLES.values()
    )
    return IndexedBatch([(row[0], row[1], row[2:]) for row in chunk], sides, last)
