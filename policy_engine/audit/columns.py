"""What the store keeps beside each record, derived from the record in one place.

Beside each record's canonical JSON (``decisions.record``, the text the chain hashes) the
store keeps what queries read: columns of ``decisions`` (``decision_id``, ``time``,
``segment`` …) and rows of the side tables ``decision_rules`` and ``decision_entities``.
:func:`indexed_columns` derives all of them from the record; the store writes what it
returns and ``audit verify`` compares what is stored with what it returns, so a column
added here (a field of :class:`IndexedColumns`, and its migration) is written and verified
without another change. Reads never trust these columns more than verify does.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple, NotRequired, TypedDict, cast

#: Side tables: a field of :class:`IndexedColumns` -> (table, column), one row per value.
SIDE_TABLES: dict[str, tuple[str, str]] = {
    "rules": ("decision_rules", "rule"),
    "entity_types": ("decision_entities", "entity_type"),
}


class IndexedColumns(NamedTuple):
    """Everything stored beside one record: the columns of ``decisions``, then the rows of
    each side table (:data:`SIDE_TABLES`: sorted, distinct values). A tuple, so that what
    verify reads from the store compares with it at once."""

    decision_id: str
    time: str
    segment: str
    outcome: str
    tenant: str | None
    application: str | None
    policy_revision: str
    hash: str
    #: ``decision`` or ``delivery`` (a decision record has no ``kind`` field).
    kind: str
    rules: tuple[str, ...]
    entity_types: tuple[str, ...]


#: The columns of ``decisions`` beside ``sequence`` and ``record``.
DECISION_COLUMNS: tuple[str, ...] = IndexedColumns._fields[: -len(SIDE_TABLES)]
if IndexedColumns._fields[len(DECISION_COLUMNS) :] != tuple(SIDE_TABLES):
    raise TypeError("IndexedColumns: the side tables' fields come last, in SIDE_TABLES order")


class ContextFields(TypedDict, total=False):
    tenant: str | None
    application: str | None


class ReasonFields(TypedDict):
    rule: str


class FindingFields(TypedDict):
    type: str


class RecordFields(TypedDict):
    """The fields of a record that :func:`indexed_columns` reads. Verify decodes only
    these (and the chain's) from each stored record, so a field the derivation reads is
    declared here (mypy holds :func:`indexed_columns` to it)."""

    decision_id: str
    time: str
    segment: str
    outcome: str
    policy_revision: str
    hash: str
    kind: NotRequired[str | None]
    context: NotRequired[ContextFields]
    reasons: NotRequired[list[ReasonFields]]
    findings: NotRequired[list[FindingFields]]


def indexed_columns(record: RecordFields) -> IndexedColumns:
    """What the store keeps beside ``record``: a sealed record (what the chain hashes:
    :meth:`~policy_engine.records.AuditRecord.document` with ``sequence``, ``prev_hash``
    and ``hash``), or the fields of it that verify decodes.
    ``KeyError``/``TypeError``/``AttributeError`` when it is not a record."""
    context = record.get("context") or _NO_CONTEXT
    return IndexedColumns(
        record["decision_id"],
        record["time"],
        record["segment"],
        record["outcome"],
        context.get("tenant"),
        context.get("application"),
        record["policy_revision"],
        record["hash"],
        record.get("kind") or "decision",
        _distinct([reason["rule"] for reason in record.get("reasons") or ()]),
        _distinct([finding["type"] for finding in record.get("findings") or ()]),
    )


_NO_CONTEXT = ContextFields()


def _distinct(values: list[str]) -> tuple[str, ...]:
    """Sorted and distinct (most records name one value or none)."""
    return tuple(values) if len(values) < 2 else tuple(sorted(set(values)))


def of_document(document: Mapping[str, Any]) -> IndexedColumns:
    """:func:`indexed_columns` of a record's whole JSON document."""
    return indexed_columns(cast(RecordFields, document))


def insert_statement() -> str:
    """The ``INSERT`` of one ``decisions`` row: ``sequence``, ``record``, then
    :data:`DECISION_COLUMNS` (parameters in that order, ``?`` placeholders)."""
    names = ("sequence", "record", *DECISION_COLUMNS)
    marks = ", ".join("?" for _ in names)
    return f"INSERT INTO decisions ({', '.join(names)}) VALUES ({marks})"


def place(name: str) -> str:
    """Where a field of :class:`IndexedColumns` is stored, as a person reads it."""
    return SIDE_TABLES[name][0] if name in SIDE_TABLES else f"decisions.{name}"


def column_differences(stored: Sequence[Any], expected: Sequence[Any]) -> list[tuple[str, str]]:
    """``(where, what differs)`` for each column of ``decisions`` (values in the order of
    :data:`DECISION_COLUMNS`) that does not say what the record says."""
    return [
        (place(name), f"is {_short(have)} but the record says {_short(want)}")
        for name, have, want in zip(DECISION_COLUMNS, stored, expected, strict=True)
        if have != want
    ]


def side_differences(
    stored: Sequence[Sequence[Any]], expected: Sequence[Sequence[Any]]
) -> list[tuple[str, str]]:
    """``(where, what differs)`` for each side table (values in :data:`SIDE_TABLES`
    order) whose rows of one record are not the record's values."""
    found = []
    for (table, _), have, want in zip(SIDE_TABLES.values(), stored, expected, strict=True):
        lacking = sorted(set(want) - set(have), key=repr)
        extra = sorted(set(have) - set(want), key=repr)
        parts = [f"lacks {_show(lacking)}"] if lacking else []
        parts += [f"has extra {_show(extra)}"] if extra else []
        if parts:
            found.append((table, " and ".join(parts)))
    return found


def orphan_differences(sequence: int, sides: Sequence[Sequence[Any]]) -> list[tuple[str, str]]:
    """``(where, what)`` for side-table rows (``sides``, in :data:`SIDE_TABLES` order)
    stored for a sequence that has no record."""
    return [
        (table, f"still holds {_show(sorted(values, key=repr))} for record {sequence}")
        for (table, _), values in zip(SIDE_TABLES.values(), sides, strict=True)
        if values
    ]


def _show(values: list[Any]) -> str:
    return ", ".join(_short(v) for v in values[:5]) + (" …" if len(values) > 5 else "")


def _short(value: Any) -> str:
    """A stored value for a message: quoted with escapes, at most about 80 characters."""
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "…"
