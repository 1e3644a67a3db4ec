"""GET /audit/decisions and /audit/decisions/{id} over HTTP, auditor key only."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.conftest import Server, start_server

AUDITOR = "auditor-key-0123456789abcdef0123456789"
GATEWAY = "gateway-key-0123456789abcdef0123456789"
SSN = "Employee SSN: 536-22-8190, please update payroll."
SECRET = "deploy with AKIAIOSFODNN7EXAMPLE today"


@pytest.fixture(scope="module")
def audit_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    server = start_server(
        tmp_path_factory.mktemp("audit-http"),
        PE_BOOTSTRAP_KEYS=f"auditor:{AUDITOR},gateway:{GATEWAY}",
        PE_DETECTION_BACKEND="patterns",
    )
    yield server
    server.stop()


@pytest.fixture(scope="module")
def decided(audit_server: Server) -> list[dict[str, Any]]:
    """Twelve decisions over two tenants and three kinds of content."""
    decisions = []
    with httpx.Client(base_url=audit_server.url, timeout=60) as http:
        for n in range(12):
            content = [SSN, "Summarize the meeting notes please.", SECRET][n % 3]
            context = {"tenant": ["acme", "globex"][n % 2], "application": f"app-{n % 3}"}
            response = http.post(
                "/decide",
                json={"content": content, "context": context},
                headers={"Authorization": f"Bearer {GATEWAY}"},
            )
            assert response.status_code == 200, response.text
            decisions.append({**response.json(), "context": context})
    return decisions


def get(server: Server, path: str, key: str | None = AUDITOR, **params: Any) -> httpx.Response:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    return httpx.get(server.url + path, params=params, headers=headers, timeout=30)


def test_lists_every_decision_in_log_order(
    audit_server: Server, decided: list[dict[str, Any]]
) -> None:
    body = get(audit_server, "/audit/decisions").json()
    assert [d["decision_id"] for d in body["decisions"]] == [d["decision_id"] for d in decided]
    assert body["next_cursor"] is None
    record = body["decisions"][0]
    assert record["hash"] == decided[0]["audit"]["hash"]
    assert "536-22-8190" not in str(body)


def test_filters_by_tenant_segment_rule_and_entity_type(
    audit_server: Server, decided: list[dict[str, Any]]
) -> None:
    def ids(**params: Any) -> list[str]:
        response = get(audit_server, "/audit/decisions", **params)
        assert response.status_code == 200, response.text
        return [d["decision_id"] for d in response.json()["decisions"]]

    assert ids(tenant="acme") == [
        d["decision_id"] for d in decided if d["context"]["tenant"] == "acme"
    ]
    assert ids(application="app-1") == [
        d["decision_id"] for d in decided if d["context"]["application"] == "app-1"
    ]
    on_prem = [d["decision_id"] for d in decided if d["segment"] == "on_prem_only"]
    assert on_prem and ids(segment="on_prem_only") == on_prem
    rule = decided[0]["reasons"][0]["rule"]
    assert ids(rule=rule) == [
        d["decision_id"] for d in decided if rule in {r["rule"] for r in d["reasons"]}
    ]
    assert ids(entity_type="US_SSN") == [
        d["decision_id"] for d in decided if "US_SSN" in {f["type"] for f in d["findings"]}
    ]
    assert ids(outcome="fail_closed") == []
    assert ids(policy_revision=decided[0]["policy_revision"]) == [d["decision_id"] for d in decided]
    assert ids(since="2999-01-01") == []
    assert len(ids(since="2020-01-01", until="2999-01-01")) == len(decided)


def test_cursor_pages_through_all_decisions(
    audit_server: Server, decided: list[dict[str, Any]]
) -> None:
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        params: dict[str, Any] = {"limit": 5}
        if cursor:
            params["cursor"] = cursor
        body = get(audit_server, "/audit/decisions", **params).json()
        seen.extend(d["decision_id"] for d in body["decisions"])
        pages += 1
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert seen == [d["decision_id"] for d in decided]
    assert pages == 3


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"since": "yesterday"}, "since"),
        ({"segment": "everywhere"}, "segment"),
        ({"limit": 0}, "limit"),
        ({"limit": 100000}, "limit"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_bad_filters_get_a_clear_422(
    audit_server: Server, params: dict[str, Any], field: str
) -> None:
    response = get(audit_server, "/audit/decisions", **params)
    assert response.status_code == 422
    body = response.json()
    assert body["error"] == "invalid_request"
    assert any(field in d["field"] for d in body["details"]), body
    assert field in body["message"]  # the message itself says what was wrong
    assert "Value error" not in response.text


def test_bad_cursor_gets_a_422(audit_server: Server) -> None:
    response = get(audit_server, "/audit/decisions", cursor="not-a-cursor")
    assert response.status_code == 422
    assert "cursor" in response.json()["message"]


def test_one_decision_by_id_and_404_for_unknown(
    audit_server: Server, decided: list[dict[str, Any]]
) -> None:
    wanted = decided[4]
    record = get(audit_server, f"/audit/decisions/{wanted['decision_id']}").json()
    assert record["decision_id"] == wanted["decision_id"]
    assert record["sequence"] == wanted["audit"]["sequence"]
    missing = get(audit_server, "/audit/decisions/01NOSUCHDECISION")
    assert missing.status_code == 404
    assert missing.json()["error"] == "not_found"
    assert "01NOSUCHDECISION" in missing.json()["message"]


def test_only_auditors_may_read(audit_server: Server) -> None:
    assert get(audit_server, "/audit/decisions", key=None).status_code == 401
    assert (
        get(audit_server, "/audit/decisions", key="wrong-key-000000000000000000").status_code == 401
    )
    forbidden = get(audit_server, "/audit/decisions", key=GATEWAY)
    assert forbidden.status_code == 403
    assert "auditor" in forbidden.json()["message"]
    assert get(audit_server, "/audit/decisions/x", key=GATEWAY).status_code == 403
