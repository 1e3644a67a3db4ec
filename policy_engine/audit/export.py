"""Export a contiguous range of the log with the proof that it is untouched.

An export covers every record from the first to the last sequence matching its time
window, without gaps, so its chain can be checked on its own:

* JSON lines: the first line is ``{"export": PROOF}``, every further line one record
  exactly as stored (canonical JSON).
* CSV: one row per record with the main fields and the full canonical record in the
  ``record`` column; the proof goes to a separate JSON file.

``PROOF`` holds ``first_sequence``, ``last_sequence``, ``count``, ``prev_hash`` (the
hash of the record before the range: the anchor), ``last_hash`` and the signed
``checkpoints`` inside the range. :func:`verify_export` recomputes the chain from the
anchor and checks each checkpoint's signature and hash.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator, Mapping
from typing import IO, Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from policy_engine.audit.verify import (
    Mismatch,
    VerifyReport,
    verify_checked_rows,
    verify_checkpoints,
)
from policy_engine.errors import AuditError
from policy_engine.ports import AuditReader
from policy_engine.records import AuditFilters, AuditRecord, Checkpoint, parse_audit_record

FORMAT = "policy-engine-audit-export/1"
CSV_COLUMNS = [
    "sequence",
    "decision_id",
    "time",
    "tenant",
    "application",
    "segment",
    "outcome",
    "rules",
    "entity_types",
    "policy_revision",
    "prev_hash",
    "hash",
    "record",
]


def export_proof(store: AuditReader, since: str | None, until: str | None) -> dict[str, Any]:
    """The proof of the contiguous range covering ``[since, until)``."""
    window = store.sequence_range(AuditFilters(since=since, until=until, kind="all"))
    proof: dict[str, Any] = {"format": FORMAT, "since": since, "until": until}
    if window is None:
        return {**proof, "first_sequence": None, "last_sequence": None, "count": 0,
                "prev_hash": None, "last_hash": None, "checkpoints": []}  # fmt: skip
    first, last = window
    boundary = {r.sequence: r for r in _records_at(store, first, last)}
    return {
        **proof,
        "first_sequence": first,
        "last_sequence": last,
        "count": last - first + 1,
        "prev_hash": boundary[first].prev_hash,
        "last_hash": boundary[last].hash,
        "checkpoints": [c.to_dict() for c in store.checkpoints(first, last)],
    }


def _records_at(store: AuditReader, first: int, last: int) -> list[AuditRecord]:
    found = []
    for sequence in {first, last}:
        page = store.query(AuditFilters(kind="all"), after_sequence=sequence - 1, limit=1)
        record = page[0] if page else None
        if record is None or record.sequence != sequence:
            raise AuditError(f"record {sequence} is missing from the log; run audit verify")
        found.append(record)
    return found


def range_rows(store: AuditReader, proof: Mapping[str, Any]) -> Iterator[tuple[int, str]]:
    """Stored rows of the proof's range, in order."""
    if not proof["count"]:
        return
    last = int(proof["last_sequence"])
    for sequence, text in store.rows(after_sequence=int(proof["first_sequence"]) - 1):
        if sequence > last:
            return
        yield sequence, text


def write_jsonl(proof: Mapping[str, Any], rows: Iterable[tuple[int, str]], out: IO[str]) -> int:
    out.write(json.dumps({"export": proof}, sort_keys=True) + "\n")
    count = 0
    for _, text in rows:
        out.write(text + "\n")
        count += 1
    return count


def write_csv(rows: Iterable[tuple[int, str]], out: IO[str]) -> int:
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    count = 0
    for sequence, text in rows:
        try:
            record = parse_audit_record(text)
        except ValueError:
            raise AuditError(
                f"record {sequence} cannot be read as a decision record; run audit verify"
            ) from None
        summary = record.summary()
        writer.writerow([*(summary[column] for column in CSV_COLUMNS[:-1]), text])
        count += 1
    return count


#: What a CSV row shows beside its record: its number (1 = the first after the header)
#: and its visible columns.
Visible = tuple[int, dict[str, str]]


def read_export(
    text: str, proof_text: str | None
) -> tuple[dict[str, Any], list[tuple[int, str, Visible | None]]]:
    """Proof and ``(sequence, record text, visible columns)`` rows of a JSON-lines or CSV
    export (JSON lines show nothing beside the record: None)."""
    if text.startswith('{"export"'):
        lines = text.splitlines()
        proof = json.loads(lines[0])["export"]
        rows: list[tuple[int, str, Visible | None]] = [
            (int(json.loads(line)["sequence"]), line, None) for line in lines[1:] if line
        ]
        return proof, rows
    if proof_text is None:
        raise AuditError("a CSV export is checked with its proof file: give --proof FILE")
    reader = csv.DictReader(io.StringIO(text))
    if reader.fieldnames != CSV_COLUMNS:
        raise AuditError("not an export of policy-engine audit export (unexpected columns)")
    csv_rows: list[tuple[int, str, Visible | None]] = [
        (int(row["sequence"]), row["record"], (number, row))
        for number, row in enumerate(reader, start=1)
    ]
    return json.loads(proof_text), csv_rows


def visible_check(sequence: int, text: str | None, visible: Visible | None) -> Mismatch | None:
    """Each visible column of a CSV row must say what its record says
    (:meth:`~policy_engine.records.AuditRecord.summary`, what :func:`write_csv` wrote)."""
    if visible is None or text is None:
        return None
    number, row = visible
    try:
        summary = parse_audit_record(text).summary()
    except ValueError:
        return Mismatch("unreadable", f"CSV row {number}: the record is not a decision record")
    wrong = [column for column in CSV_COLUMNS[:-1] if row[column] != summary[column]]
    if not wrong:
        return None
    said = "; ".join(
        f"{column} says {row[column][:80]!r} but the record says {summary[column][:80]!r}"
        for column in wrong
    )
    return Mismatch("column_mismatch", f"CSV row {number}: {said}", tuple(wrong))


def verify_export(
    proof: Mapping[str, Any],
    rows: list[tuple[int, str, Visible | None]],
    public_keys: Mapping[str, Ed25519PublicKey],
) -> VerifyReport:
    """The chain from the anchor, a CSV's visible columns, the range's bounds, and every
    checkpoint inside it."""
    if proof.get("format") != FORMAT:
        raise AuditError(f"unknown export format {proof.get('format')!r}; expected {FORMAT}")
    if not proof["count"]:
        return VerifyReport(True, 0)
    first, last = int(proof["first_sequence"]), int(proof["last_sequence"])
    chain = verify_checked_rows(
        rows,
        check=visible_check,
        remember={int(c["sequence"]) for c in proof["checkpoints"]},
        first_sequence=first,
        prev_hash=str(proof["prev_hash"]),
    )
    if not chain.ok:
        return chain
    if chain.last_sequence != last or chain.last_hash != proof["last_hash"]:
        return VerifyReport(
            False,
            chain.count,
            chain.last_sequence + 1,
            "truncated",
            f"the proof covers {first}..{last} but the records end at {chain.last_sequence}",
        )
    checkpoints = [Checkpoint(**c) for c in proof["checkpoints"]]
    return verify_checkpoints(chain, checkpoints, public_keys)
