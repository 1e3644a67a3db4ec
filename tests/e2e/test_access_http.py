"""API keys over HTTP: 401/403 with clear messages, counted; keys made, used and revoked with
`policy-engine keys` against a running server; the caller's key id in every audit record."""

from __future__ import annotations

import json
import re
import sqlite3
import stat
from pathlib import Path

import httpx

from policy_engine.access import key_id_for
from tests.conftest import (
    ADMIN_KEY,
    AUDITOR_KEY,
    GATEWAY_KEY,
    Server,
    bearer,
    run_cli,
    start_server,
)

BODY = {"content": "Summarize the meeting notes."}


def test_decide_needs_a_gateway_key(server: Server) -> None:
    with httpx.Client(base_url=server.url, timeout=60) as http:
        missing = http.post("/decide", json=BODY)
        assert missing.status_code == 401
        assert missing.json()["error"] == "unauthenticated"
        assert "Authorization: Bearer KEY" in missing.json()["message"]
        assert missing.json()["message"] == "send Authorization: Bearer KEY with a gateway key"
        assert missing.headers["www-authenticate"] == "Bearer"
        malformed = http.post("/decide", json=BODY, headers={"Authorization": GATEWAY_KEY})
        assert malformed.status_code == 401
        unknown = http.post("/decide", json=BODY, headers=bearer("not-a-known-key-at-all"))
        assert unknown.status_code == 401 and unknown.json()["error"] == "invalid_key"
        assert "policy-engine keys create --role gateway" in unknown.json()["message"]
        assert unknown.json()["message"].startswith("the key is unknown or revoked")
        for key in (AUDITOR_KEY, ADMIN_KEY):
            wrong_role = http.post("/decide", json=BODY, headers=bearer(key))
            assert wrong_role.status_code == 403
            assert wrong_role.json()["error"] == "forbidden"
            assert "needs gateway" in wrong_role.json()["message"]
            assert key not in wrong_role.text
        # Health, readiness and metrics need no key.
        assert http.get("/healthz").status_code == 200
        assert http.get("/readyz").status_code == 200
        metrics = http.get("/metrics").text
    assert re.search(
        r'policy_engine_auth_failures_total\{error="forbidden",status="403"\} [2-9]', metrics
    )
    assert re.search(
        r'policy_engine_auth_failures_total\{error="invalid_key",status="401"\} [1-9]', metrics
    )
    assert GATEWAY_KEY not in server.log_text() and AUDITOR_KEY not in server.log_text()


def test_audit_record_names_the_calling_key(server: Server, client: httpx.Client) -> None:
    decision = client.post("/decide", json=BODY).json()
    db = sqlite3.connect(server.db_path)
    (text,) = db.execute(
        "SELECT record FROM decisions WHERE decision_id = ?", (decision["decision_id"],)
    ).fetchone()
    db.close()
    assert json.loads(text)["caller"] == key_id_for(GATEWAY_KEY)


def test_keys_made_listed_and_revoked_with_the_cli(tmp_path: Path) -> None:
    server = start_server(tmp_path, PE_DETECTION_BACKEND="patterns")
    try:
        created = run_cli(tmp_path, "keys", "create", "--role", "gateway", "--label", "gw-2")
        assert created.returncode == 0, created.stderr
        key = created.stdout.strip()
        assert key.startswith("pe_") and "not shown again" in created.stderr
        keys_file = tmp_path / "keys.json"
        assert key not in keys_file.read_text()
        assert stat.S_IMODE(keys_file.stat().st_mode) == 0o600
        listed = run_cli(tmp_path, "keys", "list", "--json")
        entries = [json.loads(line) for line in listed.stdout.splitlines()]
        assert {e["role"] for e in entries} == {"gateway", "auditor", "admin"}
        assert key_id_for(key) in {e["id"] for e in entries}
        assert key not in listed.stdout

        with httpx.Client(base_url=server.url, timeout=60, headers=bearer(key)) as http:
            assert http.post("/decide", json=BODY).status_code == 200
            revoked = run_cli(tmp_path, "keys", "revoke", key_id_for(key))
            assert revoked.returncode == 0, revoked.stderr
            refused = http.post("/decide", json=BODY)
            assert refused.status_code == 401 and refused.json()["error"] == "invalid_key"
        again = run_cli(tmp_path, "keys", "revoke", key_id_for(key))
        assert again.returncode != 0 and "keys list" in again.stderr
        bad_role = run_cli(tmp_path, "keys", "create", "--role", "root")
        assert bad_role.returncode != 0
    finally:
        server.stop()
    assert key not in server.log_text()


def test_first_gateway_key_is_printed_once_when_none_exists(tmp_path: Path) -> None:
    first = start_server(tmp_path, PE_BOOTSTRAP_KEYS="", PE_DETECTION_BACKEND="patterns")
    first.stop()
    printed = re.findall(r"\bpe_[A-Za-z0-9_-]{40,}", first.log_text())
    assert len(printed) == 1
    key = printed[0]
    assert "no gateway key existed" in first.log_text()
    second = start_server(tmp_path, PE_BOOTSTRAP_KEYS="", PE_DETECTION_BACKEND="patterns")
    try:
        with httpx.Client(base_url=second.url, timeout=60, headers=bearer(key)) as http:
            response = http.post("/decide", json=BODY)
        assert response.status_code == 200
        assert response.json()["decision_id"]
    finally:
        second.stop()
    # The second start found the key and printed nothing (the log file is written anew).
    assert key not in second.log_text()
    assert "no gateway key existed" not in second.log_text()


def test_admin_manages_keys_over_http(tmp_path: Path) -> None:
    server = start_server(tmp_path, PE_DETECTION_BACKEND="patterns")
    try:
        with httpx.Client(base_url=server.url, timeout=60, headers=bearer(ADMIN_KEY)) as admin:
            made = admin.post("/keys", json={"role": "gateway", "label": "edge-2"})
            assert made.status_code == 201, made.text
            new = made.json()
            assert new["role"] == "gateway" and new["id"] == key_id_for(new["key"])
            assert made.headers["cache-control"] == "no-store"
            listed = admin.get("/keys")
            assert new["id"] in {k["id"] for k in listed.json()}
            assert new["key"] not in listed.text and "digest" not in listed.text
            with httpx.Client(base_url=server.url, timeout=60) as gateway:
                ok = gateway.post("/decide", json=BODY, headers=bearer(new["key"]))
                assert ok.status_code == 200
                assert gateway.get("/keys", headers=bearer(new["key"])).status_code == 403
                revoked = admin.delete(f"/keys/{new['id']}")
                assert revoked.status_code == 200 and revoked.json()["revoked"]
                refused = gateway.post("/decide", json=BODY, headers=bearer(new["key"]))
                assert refused.status_code == 401
            again = admin.delete(f"/keys/{new['id']}")
            assert again.status_code == 404 and again.json()["error"] == "unknown_key"
            bad = admin.post("/keys", json={"role": "root"})
            assert bad.status_code == 422
    finally:
        server.stop()
    assert new["key"] not in server.log_text()
