"""When the store signs a checkpoint of the log's head, and when verify misses one.

Every ``every`` records or ``seconds`` seconds the store signs the current head
``(sequence, hash, time)`` with Ed25519 (:class:`~policy_engine.records.Checkpoint`). A
checkpoint proves that the log once reached that sequence with that hash: records removed
from the tail, or a chain rewritten from some record on, no longer match a checkpoint.

Checkpoints removed together with the records they covered leave no mismatch behind, so
verify also asks whether the log lacks a checkpoint the service would have signed
(:class:`SigningWatch`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from policy_engine.records import Checkpoint, parse_time

#: How far verify lets the verifying host's clock differ from the service's.
CLOCK_SKEW_SECONDS = 5.0


@dataclass(frozen=True)
class CheckpointPolicy:
    """When to sign: ``every`` records after the last checkpoint, or ``seconds`` after it;
    ``clock`` tells the time (UTC) for signing and for verify."""

    every: int = 1000
    seconds: float = 60.0
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC), compare=False)

    def due(self, head: int, last_sequence: int, since: str, now: datetime) -> bool:
        """Whether to sign ``head``: ``since`` is the last checkpoint's time (or the first
        record's when there is none yet)."""
        if head <= last_sequence:
            return False
        if head - last_sequence >= self.every:
            return True
        return (now - parse_time(since)).total_seconds() >= self.seconds

    @property
    def timer_interval(self) -> float:
        """How often the service's timer looks whether a checkpoint is due."""
        return max(0.2, min(self.seconds / 2, 30.0))

    @property
    def margin(self) -> float:
        """What verify allows beyond ``seconds`` when it compares a checkpoint's time with
        its own clock: the timer's interval and :data:`CLOCK_SKEW_SECONDS`."""
        return self.timer_interval + CLOCK_SKEW_SECONDS


@dataclass
class SigningWatch:
    """Watches the records after the newest checkpoint while verify reads the log, then
    says whether a checkpoint the service would have signed is missing
    (:meth:`overdue`). Records after ``head`` (the head row when verify started) were
    appended while verify ran and are not judged."""

    policy: CheckpointPolicy
    newest: Checkpoint | None
    head: int
    unsigned: int = 0
    late: tuple[int, str] | None = None
    first_time: str | None = None

    @property
    def after(self) -> int:
        """The sequence of the newest checkpoint (0: none): records after it are judged."""
        return self.newest.sequence if self.newest is not None else 0

    def saw(self, sequence: int, time: str) -> None:
        """Verify read the record at ``sequence``, timed ``time`` (only the first record and
        those after :attr:`after` matter)."""
        if self.first_time is None:
            self.first_time = time
        if not self.after < sequence <= self.head:
            return
        self.unsigned += 1
        since = self.newest.time if self.newest is not None else self.first_time
        apart = _seconds_between(since, time)
        if self.late is None and apart is not None and apart > self.policy.seconds:
            self.late = (sequence, time)

    def overdue(self, now: datetime) -> tuple[int, str] | None:
        """``(sequence, why)`` when the log lacks a checkpoint the service would have signed:

        1. ``every`` or more records after the newest checkpoint (a writer signs in the
           transaction that appends the ``every``-th);
        2. a record after it timed more than ``seconds`` after it (or after the first
           record when there is none): the writer that appended it signs it then;
        3. the newest checkpoint (or, with none, the first record) older than ``seconds``
           plus :attr:`~CheckpointPolicy.margin` by ``now``: a running service signs
           within that time of any decision it records.
        """
        if self.first_time is None:
            return None
        every, seconds = self.policy.every, self.policy.seconds
        after = self.after
        where = (
            f"the newest signed checkpoint (sequence {after}, {self.newest.time})"
            if self.newest is not None
            else "the first record (no signed checkpoint at all)"
        )
        if self.unsigned >= every:
            return after + every, (
                f"{self.unsigned} records follow {where}; the service signs a checkpoint"
                f" when it appends the {every}th (PE_CHECKPOINT_EVERY={every})"
            )
        if self.late is not None:
            sequence, time = self.late
            return sequence, (
                f"record {sequence} ({time}) is more than {seconds:g} s after {where} and no"
                f" checkpoint covers it; the service signs one when it appends such a record"
                f" (PE_CHECKPOINT_SECONDS={seconds:g})"
            )
        since = self.newest.time if self.newest is not None else self.first_time
        age = _seconds_between(since, now)
        if age is not None and age > seconds + self.policy.margin:
            unsigned = f" ({self.unsigned} records unsigned)" if self.unsigned else ""
            return max(after, 1), (
                f"{where} is {timedelta(seconds=round(age))} old{unsigned}; a running service"
                f" signs within PE_CHECKPOINT_SECONDS={seconds:g} s (+ {self.policy.margin:g} s"
                " margin) of any decision it records: either it recorded none since (idle or"
                " stopped), or later records were removed with their checkpoints"
            )
        return None


def _seconds_between(earlier: str, later: str | datetime) -> float | None:
    """Seconds from ``earlier`` to ``later`` (None when a time cannot be read: a record's
    time is the engine's to write and the chain's to protect, not this check's to judge)."""
    try:
        end = later if isinstance(later, datetime) else parse_time(later)
        return (end - parse_time(earlier)).total_seconds()
    except (ValueError, TypeError):
        return None
