"""The service's JSON log names request and decision ids; planted sensitive values appear in
no log line, no metric and no error body."""

from __future__ import annotations

import json

import httpx

from tests.conftest import GATEWAY_KEY, Server

SSN = "536-22-8190"
CARD = "4111 1111 1111 1111"
EMAIL = "olaf.brandt@fabrikam-post.com"
AWS_KEY = "AKIAQ4RT7ZW2LM9XNB3K"
USER = "u-planted-5521"
PLANTED = [SSN, CARD, EMAIL, AWS_KEY, USER]
TEXT = f"Olaf (SSN {SSN}, card {CARD}) at {EMAIL}; aws_access_key_id = {AWS_KEY}"


def test_logs_metrics_and_errors_carry_no_planted_values(
    server: Server, client: httpx.Client
) -> None:
    request_id = "req-planted-values-1"
    response = client.post(
        "/decide",
        json={"content": TEXT, "context": {"user": USER, "tenant": "acme"}},
        headers={"X-Request-ID": request_id},
    )
    assert response.status_code == 200
    decision_id = response.json()["decision_id"]
    errors = [
        client.post("/decide", json={"content": TEXT, "context": {"user": USER * 40}}),
        client.post("/decide", json={"content": TEXT, "context": {"note": SSN}}),
        client.post("/decide", json={"messages": [{"role": SSN * 10, "content": TEXT}]}),
        client.post("/decide", json={"content": TEXT, "messages": [{"role": "user"}]}),
        client.post(
            "/decide",
            content=TEXT.encode() + b"\xff",
            headers={"content-type": "application/json"},
        ),
        client.post("/decide", content=TEXT.encode(), headers={"content-type": "text/plain"}),
    ]
    assert all(400 <= e.status_code < 500 for e in errors), [e.status_code for e in errors]
    metrics = client.get("/metrics").text

    lines = [json.loads(line) for line in server.log_text().splitlines() if line.startswith("{")]
    ours = [line for line in lines if line.get("request_id") == request_id]
    decision_line = next(line for line in ours if line["event"] == "decision")
    assert decision_line["decision_id"] == decision_id
    assert "US_SSN" in decision_line["entity_types"]
    assert any(line["event"] == "http_request" and line["status"] == 200 for line in ours)

    for value in [*PLANTED, GATEWAY_KEY]:
        assert value not in server.log_text()
        assert value not in metrics
        for error in errors:
            assert value not in error.text
