"""``policy-engine audit …``: verify, query, export, stats and find-value on the audit log.

Every command reads ``PE_AUDIT_URL`` like the service and opens the store read-only in
spirit: only ``audit checkpoint`` writes (a signed checkpoint of the head).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any, TypeVar

import click
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from pydantic import ValidationError

from policy_engine.audit.filters import MAX_LIMIT, decode_cursor, encode_cursor
from policy_engine.audit.sql_store import SqlAuditStore
from policy_engine.cli.support import fail, progress_bar, settings_or_fail
from policy_engine.errors import AuditError, ConfigError, RequestError
from policy_engine.records import AuditFilters, AuditRecord
from policy_engine.settings import Settings

F = TypeVar("F", bound=Callable[..., Any])

_FILTERS: list[tuple[str, str]] = [
    ("since", "From this date or time on (e.g. 2026-11-22 or 2026-11-22T10:00Z)."),
    ("until", "Before this date or time (exclusive)."),
    ("segment", "any, trusted_hosted or on_prem_only."),
    ("outcome", "decided or fail_closed."),
    ("tenant", "The context's tenant."),
    ("application", "The context's application."),
    ("rule", "A rule id among the reasons (e.g. isolation.secrets)."),
    ("entity-type", "An entity type among the findings (e.g. US_SSN)."),
    ("policy-revision", "The policy revision (sha256:…)."),
    ("kind", "decision (the default), delivery (the routing proxy's records) or all."),
]


def filter_options(names: list[str] | None = None) -> Callable[[F], F]:
    """Add the ``--since … --policy-revision`` options (or only ``names``)."""

    def decorate(command: F) -> F:
        for name, help_text in reversed(_FILTERS):
            if names is None or name in names:
                command = click.option(f"--{name}", default=None, help=help_text)(command)
        return command

    return decorate


def make_filters(**values: Any) -> AuditFilters:
    given = {k: v for k, v in values.items() if k in AuditFilters.model_fields and v is not None}
    try:
        return AuditFilters(**given)
    except ValidationError as exc:
        problems = [
            f"--{str(e['loc'][0]).replace('_', '-')}: {e['msg'].removeprefix('Value error, ')}"
            for e in exc.errors()
        ]
        fail("; ".join(problems))


@contextmanager
def open_store(settings: Settings) -> Iterator[SqlAuditStore]:
    from policy_engine.bootstrap import build_audit_store

    if settings.audit_url.startswith("sqlite:///") and not settings.audit_path.exists():
        fail(f"PE_AUDIT_URL={settings.audit_url}: no audit log at {settings.audit_path}")
    try:
        store = build_audit_store(settings, signing=False)
    except (AuditError, ConfigError) as exc:
        fail(str(exc))
    try:
        yield store
    except AuditError as exc:
        fail(str(exc))
    finally:
        store.close()


def trusted_keys(settings: Settings, files: tuple[Path, ...]) -> dict[str, Ed25519PublicKey]:
    """Keys from ``--public-key`` files, else the configured signing key's public half."""
    from policy_engine.audit.signing import key_id, load_public_key

    if not files:
        configured = settings.audit_signing_key_file
        public = configured.with_name(configured.name + ".pub")
        files = tuple(p for p in (public, configured) if p.exists())[:1]
    try:
        keys = [load_public_key(path) for path in files]
    except ConfigError as exc:
        fail(str(exc))
    return {key_id(key): key for key in keys}


@click.group()
def audit() -> None:
    """Verify, query, export and summarize the audit log (PE_AUDIT_URL)."""


public_key_option = click.option(
    "--public-key",
    "public_keys",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Trusted public key (PEM) for checkpoint signatures; repeatable."
    " Default: PE_AUDIT_SIGNING_KEY_FILE's .pub.",
)


#: What `verify` and `verify-export` say when signed checkpoints meet no trusted key.
NO_TRUSTED_KEY = (
    "signed checkpoints but no public key to check them: pass --public-key FILE"
    " (the .pub written beside PE_AUDIT_SIGNING_KEY_FILE)"
)


@audit.command("verify")
@public_key_option
@click.option(
    "--progress/--no-progress",
    default=None,
    help="Show progress on standard error (default: only on a terminal).",
)
@click.option(
    "--strict",
    is_flag=True,
    help="Fail (exit 1) on a warning too: a checkpoint the service would have signed is"
    " missing (stale_checkpoint).",
)
def audit_verify(public_keys: tuple[Path, ...], progress: bool | None, strict: bool) -> None:
    """Recompute the hash chain, check every column and side table queries read against
    the records, and check signed checkpoints; exit 0 only when all is intact.

    Exit status 1 names the first problem: edited, missing, reordered, broken_chain,
    unreadable, index_mismatch, truncated, forged_checkpoint, checkpoint_mismatch, and
    with --strict stale_checkpoint (otherwise a warning).
    """
    from policy_engine.audit import verify_store

    settings = settings_or_fail()
    keys = trusted_keys(settings, public_keys)
    with open_store(settings) as store:
        if not keys and store.checkpoints():
            fail(f"the log has {NO_TRUSTED_KEY}")
        with progress_bar("verifying", store.count(), enabled=progress) as update:
            report = verify_store(store, keys, progress=update, policy=store.checkpoint_policy)
    if strict:
        report = report.strict()
    click.echo(report.summary())
    sys.exit(0 if report.ok else 1)


@audit.command("public-key")
def audit_public_key() -> None:
    """Print the public key that checks checkpoint signatures (PEM), for auditors to keep."""
    from policy_engine.audit.signing import key_id, load_public_key, public_pem

    path = settings_or_fail().audit_signing_key_file
    if not path.exists():
        fail(f"PE_AUDIT_SIGNING_KEY_FILE={path}: no key yet (the service creates it on start)")
    try:
        key = load_public_key(path)
    except ConfigError as exc:
        fail(str(exc))
    click.echo(f"# {key_id(key)}", err=True)
    click.echo(public_pem(key), nl=False)


@audit.command("checkpoint")
def audit_checkpoint() -> None:
    """Sign a checkpoint of the current head now (e.g. before a backup or an export)."""
    from policy_engine.audit.signing import load_or_create_signer

    settings = settings_or_fail()
    with open_store(settings) as store:
        try:
            store.signer = load_or_create_signer(settings.audit_signing_key_file)
        except ConfigError as exc:
            fail(str(exc))
        checkpoint = store.checkpoint(force=True)
    if checkpoint is None:
        click.echo("no new checkpoint: the head is already signed (or the log is empty)")
    else:
        click.echo(f"signed checkpoint at sequence {checkpoint.sequence} ({checkpoint.key_id})")


#: The table's columns: (heading, field of AuditRecord.summary()).
_SUMMARY_COLUMNS = [
    ("seq", "sequence"), ("time", "time"), ("decision_id", "decision_id"),
    ("tenant", "tenant"), ("application", "application"), ("segment", "segment"),
    ("outcome", "outcome"), ("rules", "rules"), ("entity types", "entity_types"),
]  # fmt: skip


def print_records(records: list[AuditRecord], fmt: str, title: str) -> None:
    if fmt == "jsonl":
        for record in records:
            click.echo(json.dumps(record.document(), sort_keys=True, ensure_ascii=False))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title)
    for heading, _ in _SUMMARY_COLUMNS:
        table.add_column(heading, overflow="fold")
    for record in records:
        summary = record.summary()
        table.add_row(*(summary[field] for _, field in _SUMMARY_COLUMNS))
    Console(width=200).print(table)


format_option = click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "jsonl"]),
    default="table",
    show_default=True,
    help="A table for people, JSON lines (one record each) for tools.",
)


@audit.command("query")
@filter_options()
@click.option(
    "--limit", type=click.IntRange(1, MAX_LIMIT), default=100, show_default=True,
    help="At most this many records.",
)  # fmt: skip
@click.option("--cursor", default=None, help="Continue after a previous page (its next cursor).")
@format_option
def audit_query(limit: int, cursor: str | None, fmt: str, **filters: Any) -> None:
    """Decisions matching the filters, in log order; the next page's cursor on stderr."""
    query = make_filters(**filters)
    try:
        after = decode_cursor(cursor) if cursor else 0
    except RequestError as exc:
        fail(f"--cursor: {exc}")
    with open_store(settings_or_fail()) as store:
        records = store.query(query, after_sequence=after, limit=limit)
    print_records(records, fmt, f"{len(records)} decisions")
    if len(records) == limit:
        click.echo(f"next page: --cursor {encode_cursor(records[-1].sequence or 0)}", err=True)


@audit.command("export")
@click.option(
    "--format", "fmt", type=click.Choice(["jsonl", "csv"]), required=True,
    help="jsonl: proof line then one record per line; csv: one row per record.",
)  # fmt: skip
@filter_options(["since", "until"])
@click.option(
    "--output", "-o", type=click.Path(dir_okay=False, path_type=Path), default=None,
    help="Write to this file instead of standard output.",
)  # fmt: skip
@click.option(
    "--proof", type=click.Path(dir_okay=False, path_type=Path), default=None,
    help="CSV only: where to write the proof (default OUTPUT.proof.json).",
)  # fmt: skip
def audit_export(
    fmt: str, since: str | None, until: str | None, output: Path | None, proof: Path | None
) -> None:
    """Stream the records of a time window with the proof of their chain.

    The export covers every record from the first to the last one in [--since, --until),
    so it is a contiguous piece of the chain; `audit verify-export` checks it.
    """
    from policy_engine.audit.export import export_proof, range_rows, write_csv, write_jsonl

    window = make_filters(since=since, until=until)
    if fmt == "csv" and proof is None and output is not None:
        proof = output.with_name(output.name + ".proof.json")
    with open_store(settings_or_fail()) as store:
        document = export_proof(store, window.since, window.until)
        rows = range_rows(store, document)
        with _opened(output) as out:
            count = write_jsonl(document, rows, out) if fmt == "jsonl" else write_csv(rows, out)
    if proof is not None:
        proof.write_text(json.dumps(document, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    elif fmt == "csv":
        click.echo("note: no proof written; give --proof FILE to check this CSV later", err=True)
    first, last = document["first_sequence"], document["last_sequence"]
    span = f" (sequences {first}..{last})" if count else ""
    click.echo(f"exported {count} records{span}", err=True)


@contextmanager
def _opened(output: Path | None) -> Iterator[IO[str]]:
    if output is None:
        yield sys.stdout
        sys.stdout.flush()
        return
    with output.open("w", encoding="utf-8", newline="") as handle:
        yield handle


@audit.command("verify-export")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--proof", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
    help="The proof file of a CSV export (default: FILE.proof.json beside it).",
)  # fmt: skip
@public_key_option
def audit_verify_export(file: Path, proof: Path | None, public_keys: tuple[Path, ...]) -> None:
    """Check an export on its own: its chain from the anchor, a CSV's visible columns
    against the records, and its signed checkpoints.

    Exit status 1 names the first problem (as `verify`; column_mismatch: a CSV column
    differs from the record in its row), 2 when the export cannot be checked.
    """
    from policy_engine.audit.export import read_export, verify_export

    keys = trusted_keys(settings_or_fail(), public_keys)
    text = file.read_text(encoding="utf-8")
    if proof is None and not text.startswith('{"export"'):
        beside = file.with_name(file.name + ".proof.json")
        if not beside.exists():
            fail(f"{file}: a CSV export is checked with its proof: no {beside}; give --proof FILE")
        proof = beside
    try:
        document, rows = read_export(
            text, proof.read_text(encoding="utf-8") if proof is not None else None
        )
        if not keys and document.get("checkpoints"):
            fail(f"{file}: the export has {NO_TRUSTED_KEY}")
        report = verify_export(document, rows, keys)
    except (AuditError, ValueError, KeyError, TypeError) as exc:
        fail(f"{file}: not a readable export ({exc})")
    if not report.ok:
        click.echo(report.summary())
        sys.exit(1)
    covered = max((int(c["sequence"]) for c in document["checkpoints"]), default=None)
    click.echo(
        f"OK: {report.count} records {document['first_sequence']}..{document['last_sequence']},"
        f" chain intact from the anchor, {report.checkpoints} signed checkpoints valid"
    )
    if report.count and covered != document["last_sequence"]:
        tail = document["first_sequence"] if covered is None else covered + 1
        click.echo(
            f"note: records {tail}..{document['last_sequence']} are after the last checkpoint"
            " in the range; check them against the live log with `audit verify`"
        )


@audit.command("stats")
@filter_options()
@click.option("--top", type=click.IntRange(1, 100), default=10, show_default=True)
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table")
def audit_stats(top: int, fmt: str, **filters: Any) -> None:
    """Decisions per segment and outcome, top rules and entity types, over a period."""
    query = make_filters(**filters)
    with open_store(settings_or_fail()) as store:
        stats = store.stats(query, top=top)
    if fmt == "json":
        click.echo(json.dumps(stats, indent=2))
        return
    from rich.console import Console
    from rich.table import Table

    console = Console(width=160)
    console.print(
        f"{stats['total']} decisions from {stats['first_time'] or '-'} to"
        f" {stats['last_time'] or '-'}"
    )
    for title, columns, rows in (
        ("by segment and outcome", ["segment", "outcome", "count"], stats["by_segment_outcome"]),
        ("top rules", ["rule", "count"], stats["top_rules"]),
        ("top entity types", ["entity_type", "count"], stats["top_entity_types"]),
    ):
        table = Table(title=title)
        for column in columns:
            table.add_column(column)
        for row in rows:
            table.add_row(*(str(row[c]) for c in columns))
        console.print(table)


@audit.command("find-value")
@click.argument("value")
@filter_options(["since", "until"])
@format_option
def audit_find_value(value: str, since: str | None, until: str | None, fmt: str) -> None:
    """Decisions in which exactly VALUE was detected ('-' reads it from standard input).

    The value is digested with the HMAC key in PE_HMAC_KEY_FILE and matched against the
    findings' value_digests; it is never printed, logged or stored.
    """
    from policy_engine.digest import Digester, load_or_create_key

    settings = settings_or_fail()
    if value == "-":
        value = sys.stdin.read().rstrip("\n")
    if not value:
        fail("VALUE is empty")
    if not settings.hmac_key_file.exists():
        fail(f"PE_HMAC_KEY_FILE={settings.hmac_key_file}: no such key; use the service's key")
    try:
        digest = Digester(load_or_create_key(settings.hmac_key_file)).digest(value)
    except ConfigError as exc:
        fail(str(exc))
    del value
    window = make_filters(since=since, until=until)
    with open_store(settings) as store:
        found = [
            record
            for record in store.containing(digest, window)
            if any(digest in finding.value_digests for finding in record.findings)
        ]
    print_records(found, fmt, f"{len(found)} decisions in which the value was detected")
