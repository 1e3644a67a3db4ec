"""What the overview's charts show, counted in one pass over the decisions of a period:
decisions per segment over time, outcomes, top rules, findings by type, endpoints chosen
(recommended, and answered where the routing proxy's delivery records say).

At most :data:`MAX_RECORDS` decisions are counted (the most recent are left out beyond
it, and the page says so); the totals per segment and outcome come from the store.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from policy_engine.audit.savings import field_of
from policy_engine.models import Segment
from policy_engine.records import AuditRecord

MAX_RECORDS = 100_000
#: Segments from the most to the least restrictive (the charts' order).
SEGMENTS = [Segment.ON_PREM_ONLY.value, Segment.TRUSTED_HOSTED.value, Segment.ANY.value]
#: Periods spanning at most this many days are charted by hour.
HOURLY_UP_TO_DAYS = 2


@dataclass
class Overview:
    counted: int = 0
    truncated: bool = False
    by_day: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    by_hour: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    segments: Counter[str] = field(default_factory=Counter)
    outcomes: Counter[str] = field(default_factory=Counter)
    rules: Counter[str] = field(default_factory=Counter)
    #: Decisions in which each entity type was found.
    entity_types: Counter[str] = field(default_factory=Counter)
    recommended: Counter[str] = field(default_factory=Counter)
    answered: Counter[str] = field(default_factory=Counter)

    @property
    def hourly(self) -> bool:
        return len(self.by_day) <= HOURLY_UP_TO_DAYS

    def over_time(self) -> tuple[list[str], dict[str, list[int]]]:
        """Bucket labels (days, or hours for short periods) and each segment's counts."""
        table = self.by_hour if self.hourly else self.by_day
        labels = sorted(table)
        series = {s: [table[label][s] for label in labels] for s in SEGMENTS}
        shown = [f"{label[5:10]} {label[11:13]}h" if self.hourly else label for label in labels]
        return shown, series


def overview(
    decisions: Iterable[AuditRecord],
    deliveries: Mapping[str, Mapping[str, Any]],
    limit: int = MAX_RECORDS,
) -> Overview:
    """Count ``decisions`` (at most ``limit``) with their ``deliveries`` by decision id."""
    out = Overview()
    for record in decisions:
        if out.counted >= limit:
            out.truncated = True
            break
        out.counted += 1
        segment = record.segment.value
        out.by_day[record.time[:10]][segment] += 1
        out.by_hour[record.time[:13]][segment] += 1
        out.segments[segment] += 1
        out.outcomes[record.outcome] += 1
        out.rules.update(record.rules)
        out.entity_types.update(record.entity_types)
        out.recommended[record.recommended_endpoint or "(none allowed)"] += 1
        delivery = deliveries.get(record.decision_id)
        if delivery is not None:
            answered = field_of(delivery, "endpoint")
            out.answered[answered if isinstance(answered, str) else "(no answer)"] += 1
    return out
