"""Verify warns (and fails under strict) when the log lacks a checkpoint the service would
have signed: removing the tail together with the checkpoints that covered it, and fixing
the head row, leaves no mismatch, but it leaves a log the service could not have written.

The store signs with a clock the tests move (one record a minute), so the log has the
timeline of a real service's.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

from policy_engine.audit import verify_store
from policy_engine.audit.checkpoints import CheckpointPolicy
from policy_engine.audit.signing import Signer
from policy_engine.audit.sql_store import SqlAuditStore
from policy_engine.audit.verify import VerifyReport
from policy_engine.ports import IndexedBatch
from policy_engine.records import parse_time, utc_text
from tests.audit_support import Backend, entry

START = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now

    def minute(self, n: int) -> datetime:
        self.now = START + timedelta(minutes=n)
        return self.now


def write_log(
    backend: Backend, signer: Signer | None, *, every: int, seconds: float, records: int = 22
) -> tuple[SqlAuditStore, Clock]:
    """``records`` decisions, record n at minute n, signed as the service signs."""
    clock = Clock()
    store = backend.open(signer=signer, every=every, seconds=seconds, clock=clock)
    for n in range(1, records + 1):
        store.append(entry(n, time=utc_text(clock.minute(n))))
    return store, clock


def verify(store: SqlAuditStore, signer: Signer, at_minute: float) -> VerifyReport:
    report = verify_store(
        store,
        {signer.key_id: signer.public_key},
        policy=store.checkpoint_policy,
        now=START + timedelta(minutes=at_minute),
    )
    assert report.ok, report.summary()
    return report


def remove_after(backend: Backend, sequence: int) -> None:
    """Remove the records after ``sequence`` with everything that names them, and fix the
    head row, as a tamperer with write access to the database would."""
    for table in ("decisions", "decision_rules", "decision_entities", "checkpoints"):
        backend.execute(f"DELETE FROM {table} WHERE sequence > ?", sequence)
    (head_hash,) = backend.execute("SELECT hash FROM decisions WHERE sequence = ?", sequence)[0]
    backend.execute("UPDATE audit_head SET sequence = ?, hash = ?", sequence, head_hash)


def test_removing_the_tail_with_its_checkpoints_is_no_longer_ok(
    backend: Backend, signer: Signer
) -> None:
    store, _ = write_log(backend, signer, every=5, seconds=600)
    assert [c.sequence for c in store.checkpoints()] == [5, 10, 15, 20]
    intact = verify(store, signer, at_minute=23)
    assert intact.warnings == ()
    assert intact.strict() == intact

    remove_after(backend, 10)
    report = verify(store, signer, at_minute=23)
    assert report.summary().startswith("OK: 10 records, hash chain intact, 2 signed checkpoints")
    (warning,) = report.warnings
    assert (warning.problem, warning.sequence) == ("stale_checkpoint", 10)
    assert "the newest signed checkpoint (sequence 10, 2026-11-20T09:10:00" in warning.detail
    assert "is 0:13:00 old" in warning.detail
    assert "PE_CHECKPOINT_SECONDS=600" in warning.detail
    assert "warning at sequence 10: stale_checkpoint:" in report.summary()
    strict = report.strict()
    assert (strict.ok, strict.sequence, strict.problem) == (False, 10, "stale_checkpoint")
    assert strict.summary().startswith("FAILED at sequence 10: stale_checkpoint:")


def test_checkpoints_removed_from_a_kept_tail_are_counted(backend: Backend, signer: Signer) -> None:
    """Only the checkpoints go (15, 20): 12 records follow checkpoint 10, and the service
    signs at the 5th. Data alone shows it, whenever verify runs."""
    store, _ = write_log(backend, signer, every=5, seconds=600)
    backend.execute("DELETE FROM checkpoints WHERE sequence > 10")
    for minute in (23, 24 * 60):
        (warning,) = verify(store, signer, at_minute=minute).warnings
        assert warning.sequence == 15
        assert "12 records follow the newest signed checkpoint (sequence 10" in warning.detail
        assert "PE_CHECKPOINT_EVERY=5" in warning.detail


def test_a_record_later_than_the_interval_without_a_checkpoint(
    backend: Backend, signer: Signer
) -> None:
    """Signed by time (every 5 minutes): records 6, 11, 16, 21 carry checkpoints. Without
    16 and 21, record 17 came 6 minutes after checkpoint 11 and nothing signed it."""
    store, _ = write_log(backend, signer, every=100, seconds=300)
    assert [c.sequence for c in store.checkpoints()] == [6, 11, 16, 21]
    assert verify(store, signer, at_minute=22).warnings == ()
    backend.execute("DELETE FROM checkpoints WHERE sequence > 11")
    (warning,) = verify(store, signer, at_minute=22).warnings
    assert warning.sequence == 17
    assert "record 17 (2026-11-20T09:17:00.000000Z) is more than 300 s after" in warning.detail


def test_a_log_never_signed(backend: Backend, signer: Signer) -> None:
    """A writer without a signing key: the log is chained but nothing proves its end."""
    store, _ = write_log(backend, None, every=1000, seconds=600, records=3)
    assert verify(store, signer, at_minute=4).warnings == ()
    (warning,) = verify(store, signer, at_minute=30).warnings
    assert (
        "the first record (no signed checkpoint at all) is 0:29:00 old (3 records unsigned)"
        in warning.detail
    )


def test_an_honest_log_verified_while_it_grows_never_warns(
    backend: Backend, signer: Signer
) -> None:
    """The service's own signing, checked after every append at the time of that append
    (one a minute; every 4 records or 150 s), then idle: the timer signs the tail, and once
    that checkpoint is older than the interval and its margin an idle log warns like a
    truncated one, which is why this is a warning and not a failure."""
    clock = Clock()
    store = backend.open(signer=signer, every=4, seconds=150, clock=clock)
    for n in range(1, 15):
        store.append(entry(n, time=utc_text(clock.minute(n))))
        assert verify(store, signer, at_minute=n).warnings == (), n
    policy: CheckpointPolicy = store.checkpoint_policy
    clock.now = parse_time(store.checkpoints()[-1].time) + timedelta(seconds=policy.seconds)
    signed = store.checkpoint()  # what the service's timer does when a checkpoint is due
    assert signed is not None and signed.sequence == 14
    quiet = (clock.now - START).total_seconds() / 60 + (policy.seconds + policy.margin) / 60
    assert verify(store, signer, at_minute=quiet - 0.01).warnings == ()
    assert verify(store, signer, at_minute=quiet + 0.01).warnings != ()


def test_records_appended_while_verify_runs_are_not_judged(
    backend: Backend, signer: Signer
) -> None:
    """Verify judges the records up to the head it read first: a busy service appending
    more than ``every`` records while verify reads the log is not a missing checkpoint."""
    store, _ = write_log(backend, None, every=3, seconds=3600, records=2)
    read = store.indexed_batches

    def read_while_appending(after_sequence: int = 0, size: int = 5000) -> Iterator[IndexedBatch]:
        for n in range(3, 10):
            store.append(entry(n, time=utc_text(START + timedelta(minutes=n))))
        yield from read(after_sequence, size)

    store.indexed_batches = read_while_appending  # type: ignore[method-assign]
    report = verify(store, signer, at_minute=10)
    assert report.count == 9
    assert report.warnings == ()


def test_times_verify_cannot_read_do_not_stop_it(backend: Backend, signer: Signer) -> None:
    """A record's time is the engine's to write (and the chain's to protect): one that is
    not a time is not judged for missing checkpoints, and verify goes on."""
    store = backend.open(signer=None, seconds=600)
    for n, time in enumerate(["2026-11-20T09:00:00.000000Z", "2026-11-40T09:00:00Z", "soon"]):
        store.append(entry(n + 1, time=time))
    report = verify(store, signer, at_minute=1)
    assert (report.count, report.warnings) == (3, ())
    store.append(entry(4, time="2026-11-20T10:00:00.000000Z"))  # an hour after the first
    (warning,) = verify(store, signer, at_minute=61).warnings
    assert warning.sequence == 4
    assert "record 4 (2026-11-20T10:00:00.000000Z) is more than 600 s after" in warning.detail
