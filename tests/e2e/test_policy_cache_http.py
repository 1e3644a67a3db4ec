"""The policy result cache over HTTP: repeated questions share a decision, and a reload
with a changed policy answers the same input anew, never from the old set's cache."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from policy_engine.audit import SQLiteAuditStore
from tests.audit_support import documents
from tests.conftest import Server
from tests.e2e.test_policy_admin_http import (
    ADMIN,
    AUDITOR,
    add_support_rule,
    auth,
    decide,
    policy_copy,
    serve,
)

pytestmark = pytest.mark.slow


def cache_of(server: Server) -> object:
    answer = httpx.get(f"{server.url}/policies", headers=auth(AUDITOR), timeout=10)
    assert answer.status_code == 200
    assert answer.json()["backend"] == "embedded"
    return answer.json()["result_cache"]


def test_reload_never_answers_from_the_old_sets_cache(tmp_path: Path) -> None:
    policies = policy_copy(tmp_path / "policies")
    server = serve(tmp_path, policies, PE_POLICY_CACHE_SIZE="16")
    try:
        before = [decide(server) for _ in range(3)]  # the same input: cached after the first
        assert cache_of(server) == {"entries": 1, "hits": 2, "misses": 1}
        assert {(d["segment"], d["policy_revision"]) for d in before} == {
            ("any", before[0]["policy_revision"])
        }
        add_support_rule(policies)
        reloaded = httpx.post(f"{server.url}/policies/reload", headers=auth(ADMIN), timeout=300)
        assert reloaded.status_code == 200, reloaded.text
        assert reloaded.json()["status"] == "applied"
        assert cache_of(server) == {"entries": 0, "hits": 0, "misses": 0}  # the new set's
        after = [decide(server) for _ in range(3)]
        assert cache_of(server) == {"entries": 1, "hits": 2, "misses": 1}
    finally:
        server.stop()
    new = reloaded.json()["revision"]
    assert new != before[0]["policy_revision"]
    for answer in after:
        assert (answer["segment"], answer["policy_revision"]) == ("on_prem_only", new)
        assert [r["rule"] for r in answer["reasons"]] == ["hr.kiosk_on_prem"]
    records = documents(SQLiteAuditStore(server.db_path).records())
    assert [r["segment"] for r in records] == ["any"] * 3 + ["on_prem_only"] * 3
