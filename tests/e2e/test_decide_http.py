"""POST /decide against a real `policy-engine serve` process over HTTP."""

from __future__ import annotations

import json
import re
import sqlite3

import httpx
import pytest

from tests.conftest import Server, run_cli

SSN = "536-22-8190"
CARD = "4111 1111 1111 1111"
EMAIL = "maria.keller@contoso-mail.com"
AWS_KEY = "AKIAZ7QW3RT5LM2XNB4Y"
PLANTED = [SSN, CARD, EMAIL, AWS_KEY, "Maria Keller"]

SENSITIVE_TEXT = (
    f"Customer Maria Keller (SSN {SSN}, card {CARD}) wrote from {EMAIL} about the refund."
)


def decide(client: httpx.Client, body: object, **headers: str) -> httpx.Response:
    return client.post("/decide", json=body, headers=headers)


def test_sensitive_pii_stays_on_prem(client: httpx.Client) -> None:
    response = decide(client, {"content": SENSITIVE_TEXT, "context": {"tenant": "acme"}})
    assert response.status_code == 200, response.text
    decision = response.json()
    assert decision["segment"] == "on_prem_only"
    assert decision["outcome"] == "decided"
    assert decision["allowed_endpoints"] == ["onprem-qwen3-32b"]
    assert decision["recommended_endpoint"] == "onprem-qwen3-32b"
    types = {f["type"] for f in decision["findings"]}
    assert {"US_SSN", "CREDIT_CARD", "EMAIL_ADDRESS"} <= types
    ssn = next(f for f in decision["findings"] if f["type"] == "US_SSN")
    start, end = ssn["spans"][0]
    assert SENSITIVE_TEXT[start:end] == SSN
    assert ssn["category"] == "pii"
    assert "isolation.sensitive_pii" in {r["rule"] for r in decision["reasons"]}
    excluded = {e["id"]: e["reasons"] for e in decision["excluded_endpoints"]}
    assert "segment on_prem_only" in excluded["gpt-4o"]
    # The on-prem box without pinned weights is excluded by provenance, whatever the segment.
    assert any("provenance.unverified_weights" in r for r in excluded["onprem-lab-glm4-9b"])
    assert decision["policy_revision"].startswith("sha256:")
    assert decision["audit"]["sequence"] >= 1
    assert len(decision["audit"]["hash"]) == 64
    assert SSN not in response.text and EMAIL not in response.text


def test_clean_text_may_go_anywhere_cheapest_first(client: httpx.Client) -> None:
    response = decide(client, {"content": "Summarize the benefits of unit testing in two lines."})
    decision = response.json()
    assert decision["segment"] == "any"
    assert decision["findings"] == []
    assert decision["reasons"] == []
    allowed = decision["allowed_endpoints"]
    assert allowed[:2] == ["glm-4-plus-fireworks", "glm-4-plus-zhipu"]
    assert allowed[-1] == "gpt-4o"
    assert "deepseek-v4-flash" in allowed
    assert "onprem-lab-glm4-9b" not in allowed


def test_contact_pii_goes_to_trusted_hosts_only(client: httpx.Client) -> None:
    response = decide(client, {"content": f"Please reply to {EMAIL} by Friday."})
    decision = response.json()
    assert decision["segment"] == "trusted_hosted"
    assert set(decision["allowed_endpoints"]) == {
        "onprem-qwen3-32b",
        "qwen3-32b-together",
        "glm-4-plus-fireworks",
        "gpt-4o",
    }
    assert decision["allowed_endpoints"][0] == "glm-4-plus-fireworks"


def test_secret_in_chat_message_names_the_message(client: httpx.Client) -> None:
    body = {
        "messages": [
            {"role": "system", "content": "You are a helpful assistant."},
            {"role": "user", "content": [{"type": "text", "text": "Why does this fail?"}]},
            {"role": "user", "content": f"aws_access_key_id = {AWS_KEY}"},
        ],
        "context": {"requested_endpoint": "deepseek-v4-flash"},
    }
    decision = decide(client, body).json()
    assert decision["segment"] == "on_prem_only"
    assert decision["requested_endpoint_allowed"] is False
    assert decision["recommended_endpoint"] == "onprem-qwen3-32b"
    secret = next(f for f in decision["findings"] if f["category"] == "secret")
    assert secret["message"] == 2
    assert "isolation.secrets" in {r["rule"] for r in decision["reasons"]}


def test_declared_classification_only_tightens(client: httpx.Client) -> None:
    text = "Draft a friendly reminder about the team lunch."
    public = decide(client, {"content": text, "context": {"declared_classification": "public"}})
    internal = decide(client, {"content": text, "context": {"declared_classification": "internal"}})
    assert public.json()["segment"] == "any"
    assert internal.json()["segment"] == "trusted_hosted"
    loosen = decide(
        client,
        {"content": f"SSN {SSN}", "context": {"declared_classification": "public"}},
    )
    assert loosen.json()["segment"] == "on_prem_only"


def test_requested_endpoint_allowed_is_recommended(client: httpx.Client) -> None:
    decision = decide(
        client,
        {"content": "What is 2 + 2?", "context": {"requested_endpoint": "deepseek-v4-pro"}},
    ).json()
    assert decision["requested_endpoint_allowed"] is True
    assert decision["recommended_endpoint"] == "deepseek-v4-pro"


def test_context_window_too_small_is_a_reason(client: httpx.Client) -> None:
    text = "Plain words about gardening and weather. " * 4000  # ~164k chars, ~41k tokens
    decision = decide(client, {"content": text}).json()
    excluded = {e["id"]: e["reasons"] for e in decision["excluded_endpoints"]}
    assert any("context window 32768" in r for r in excluded["qwen3-32b-alibaba"])
    assert "qwen3-32b-alibaba" not in decision["allowed_endpoints"]
    assert "deepseek-v4-flash" in decision["allowed_endpoints"]


@pytest.mark.parametrize(
    ("kwargs", "status", "code"),
    [
        (
            {"content": b"{not json", "headers": {"content-type": "application/json"}},
            400,
            "invalid_json",
        ),
        ({"content": b"", "headers": {"content-type": "application/json"}}, 400, "empty_body"),
        (
            {"content": b"\xff\xfe{}", "headers": {"content-type": "application/json"}},
            400,
            "invalid_utf8",
        ),
        (
            {"content": b"[1, 2]", "headers": {"content-type": "application/json"}},
            422,
            "invalid_request",
        ),
        (
            {"content": b"content=hi", "headers": {"content-type": "text/plain"}},
            415,
            "unsupported_media_type",
        ),
        ({"json": {}}, 422, "invalid_request"),
        ({"json": {"content": ""}}, 422, "invalid_request"),
        ({"json": {"content": 42}}, 422, "invalid_request"),
        ({"json": {"content": "hi", "messages": []}}, 422, "invalid_request"),
        ({"json": {"messages": []}}, 422, "invalid_request"),
        ({"json": {"messages": [{"content": "no role"}]}}, 422, "invalid_request"),
        ({"json": {"content": "hi", "colour": "blue"}}, 422, "invalid_request"),
        ({"json": {"content": "hi", "context": {"max_output_tokens": -5}}}, 422, "invalid_request"),
    ],
)
def test_bad_input_gets_a_clear_4xx(
    client: httpx.Client, kwargs: dict[str, object], status: int, code: str
) -> None:
    response = client.post("/decide", **kwargs)  # type: ignore[arg-type]
    assert response.status_code == status, response.text
    body = response.json()
    assert body["error"] == code
    assert body["message"]
    assert "Traceback" not in response.text


def test_validation_errors_name_the_field_without_echoing_values(client: httpx.Client) -> None:
    response = decide(client, {"content": "x", "context": {"tenant": ["ssn", SSN]}})
    assert response.status_code == 422
    assert "context.tenant" in response.json()["message"]
    assert SSN not in response.text


def test_a_misspelt_field_is_named_with_the_fields_allowed_there(client: httpx.Client) -> None:
    top = decide(client, {"contnet": "hi"}).json()
    assert (
        top["message"] == "contnet: unknown field; the fields here are content, messages, context"
    )
    nested = decide(client, {"content": "hi", "context": {"tenat": "acme"}}).json()
    assert nested["details"][0]["field"] == "context.tenat"
    assert "the fields here are tenant, application," in nested["details"][0]["problem"]
    empty = decide(client, {"content": " "}).json()
    assert empty["message"] == "body: 'content' is empty; put the text to check in it"


def test_body_over_the_limit_is_413(client: httpx.Client) -> None:
    response = decide(client, {"content": "a" * (1024 * 1024 + 10)})
    assert response.status_code == 413
    assert "1048576 bytes" in response.json()["message"]


def test_request_id_is_echoed_and_logged(client: httpx.Client, server: Server) -> None:
    response = decide(client, {"content": "hello"}, **{"X-Request-ID": "req-e2e-42"})
    assert response.headers["x-request-id"] == "req-e2e-42"
    lines = [json.loads(line) for line in server.log_text().splitlines() if line.startswith("{")]
    tagged = [line for line in lines if line.get("request_id") == "req-e2e-42"]
    assert {"decision", "http_request"} <= {line["event"] for line in tagged}


def test_health_and_readiness(client: httpx.Client) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["ready"] is True


def test_the_service_exempts_what_it_loaded_from_garbage_collection(
    client: httpx.Client,
) -> None:
    metrics = client.get("/metrics").text
    found = re.search(r"^policy_engine_gc_frozen_objects ([0-9.e+]+)$", metrics, re.M)
    assert found is not None
    assert float(found.group(1)) > 50_000  # the model, policies and detectors at least
    assert re.search(r"^policy_engine_gc_enabled 1\.0$", metrics, re.M)  # on again


def test_no_planted_value_reaches_the_database_or_the_logs(
    client: httpx.Client, server: Server
) -> None:
    decision = decide(client, {"content": SENSITIVE_TEXT + f" key {AWS_KEY}"}).json()
    assert decision["segment"] == "on_prem_only"
    database = b"".join(
        path.read_bytes() for path in server.workdir.glob("audit.db*") if path.is_file()
    )
    logs = server.log_text()
    for value in PLANTED:
        assert value.encode() not in database, value
        assert value not in logs, value
    row = (
        sqlite3.connect(server.db_path)
        .execute("SELECT record FROM decisions WHERE decision_id = ?", (decision["decision_id"],))
        .fetchone()
    )
    record = json.loads(row[0])
    assert record["content_digest"].startswith("hmac-sha256:")
    assert all(d.startswith("hmac-sha256:") for f in record["findings"] for d in f["value_digests"])


def test_every_answer_is_in_the_log_and_the_chain_verifies(
    client: httpx.Client, server: Server
) -> None:
    ids = [decide(client, {"content": f"note number {n}"}).json()["decision_id"] for n in range(5)]
    db = sqlite3.connect(server.db_path)
    stored = {row[0] for row in db.execute("SELECT decision_id FROM decisions")}
    assert set(ids) <= stored
    result = run_cli(server.workdir, "audit", "verify")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"OK: {len(stored)} records")
