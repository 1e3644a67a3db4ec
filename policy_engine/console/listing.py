"""Reading the log for the console: a page of decisions, one decision with its neighbours
in the chain and its delivery records.

The store filters by time, segment, outcome, tenant, application, rule, entity type and
policy revision; the recommended endpoint is matched here, over at most
:data:`SCAN_BUDGET` records per page (the page then says how far it looked).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from policy_engine.audit.savings import (
    DELIVERY_KIND,
    as_mapping,
    field_of,
    is_delivery,
    kind_filters,
)
from policy_engine.ports import AuditReader
from policy_engine.records import AuditFilters, AuditRecord, parse_time, utc_text

#: Most records read to fill one page when filtering by endpoint.
SCAN_BUDGET = 5000
_BATCH = 500
#: How long after a decision its delivery records are looked for.
DELIVERY_WINDOW = timedelta(days=1)
_SEARCHABLE = re.compile(r"^[A-Za-z0-9:-]+$")


@dataclass
class Page:
    records: list[AuditRecord] = field(default_factory=list)
    #: The sequence to continue after (None: nothing more matches).
    next_after: int | None = None
    #: Set when the page stopped at the scan budget before filling up.
    scanned_to: int | None = None


def decisions_page(
    reader: AuditReader,
    filters: AuditFilters,
    *,
    endpoint: str | None,
    after: int,
    limit: int,
) -> Page:
    """Decisions matching ``filters`` (and recommending ``endpoint``) after ``after``."""
    page = Page()
    cursor, scanned = after, 0
    batch = limit if endpoint is None else _BATCH
    while True:
        records = reader.query(filters, after_sequence=cursor, limit=batch)
        for record in records:
            cursor = record.sequence or cursor
            scanned += 1
            if is_delivery(record):
                continue
            if endpoint is None or record.recommended_endpoint == endpoint:
                page.records.append(record)
                if len(page.records) == limit:
                    page.next_after = cursor
                    return page
        if len(records) < batch:
            return page
        if endpoint is None or scanned >= SCAN_BUDGET:
            page.next_after = cursor
            page.scanned_to = cursor if endpoint is not None else None
            return page


@dataclass
class Neighbours:
    previous: AuditRecord | None
    following: AuditRecord | None


def neighbours(reader: AuditReader, record: AuditRecord) -> Neighbours:
    """The records just before and after ``record`` in the chain."""
    sequence = record.sequence or 0
    around = reader.query(AuditFilters(), after_sequence=max(sequence - 2, 0), limit=3)
    before = [r for r in around if (r.sequence or 0) < sequence]
    after = [r for r in around if (r.sequence or 0) > sequence]
    return Neighbours(before[-1] if before else None, after[0] if after else None)


def deliveries_of(reader: AuditReader, record: AuditRecord) -> list[dict[str, Any]]:
    """The delivery records of a decision (the routing proxy's: what answered, attempts,
    usage), looked for within :data:`DELIVERY_WINDOW` after it."""
    if not _SEARCHABLE.match(record.decision_id):
        return []  # the store searches for ids of letters, digits, ':' and '-' only
    window = AuditFilters(
        since=record.time, until=utc_text(parse_time(record.time) + DELIVERY_WINDOW)
    )
    filters = kind_filters(window, DELIVERY_KIND) or window
    found = []
    for candidate in reader.containing(record.decision_id, filters):
        delivery = as_mapping(field_of(candidate, "delivery"))
        if is_delivery(candidate) and field_of(candidate, "delivers") == record.decision_id:
            found.append({"record": candidate, **(delivery or {})})
    return found
