"""The savings report and the console's delivery lookup on both real stores, where the
routing proxy's delivery records share the chain with the decisions (appended here through
the store API with the agreed fields, tests/savings_support.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from policy_engine.audit import verify_store
from policy_engine.audit.savings import exact, savings_from_log
from policy_engine.audit.sql_store import SqlAuditStore
from policy_engine.catalog import load_catalog
from policy_engine.console.listing import deliveries_of
from policy_engine.records import AuditFilters
from tests.audit_support import Backend
from tests.conftest import ROOT
from tests.savings_support import DAY, EXPECTED_TOTAL, savings_log

CATALOG = load_catalog(ROOT / "examples" / "catalog.yaml")


@pytest.fixture()
def store(backend: Backend) -> Iterator[SqlAuditStore]:
    opened = backend.open()
    try:
        for record in savings_log():
            opened.append(record)
        yield opened
    finally:
        opened.close()


def test_the_report_from_the_log(store: SqlAuditStore) -> None:
    whole = savings_from_log(store, CATALOG, AuditFilters())
    assert whole.to_dict()["total"] == EXPECTED_TOTAL
    assert whole.considered == 7 and whole.delivered == 1
    later = savings_from_log(store, CATALOG, AuditFilters(since=f"{DAY}T10:00:03Z"))
    assert later.considered == 5  # C..G; C is still seen as delivered
    assert later.delivered == 1
    assert exact(later.total.chosen_usd) == "0.00087"
    assert verify_store(store, {}).ok  # deliveries are links of the same chain


def test_a_decision_finds_its_delivery_records(store: SqlAuditStore) -> None:
    decided = store.get("s-0003")
    assert decided is not None
    (found,) = deliveries_of(store, decided)
    assert found["endpoint"] == "qwen3-32b-together"
    assert found["usage"]["prompt_tokens"] == 1200
    assert found["record"].decision_id == "s-0008"
    undelivered = store.get("s-0006")
    assert undelivered is not None
    assert [d["endpoint"] for d in deliveries_of(store, undelivered)] == [None]
    plain = store.get("s-0001")
    assert plain is not None and deliveries_of(store, plain) == []
