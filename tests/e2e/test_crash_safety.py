"""Nothing lost: SIGKILL under load, SIGTERM with requests in flight, an audit store outage.

Every test runs a real `policy-engine serve` process; the decisions clients received are
looked up in the audit database the server wrote.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import threading
import time
from pathlib import Path

import httpx

from tests.audit_support import sqlite_write_lock
from tests.conftest import (
    GATEWAY_KEY,
    Server,
    assert_no_decision_while_the_log_is_down,
    bearer,
    run_cli,
    start_server,
)

PROMPTS = [
    "Summarize the release notes for version 4.2.",
    "Reply to maria.keller@contoso-mail.com about the invoice.",
    "aws_access_key_id = AKIAZ7QW3RT5LM2XNB4Y fails to authenticate, why?",
    "Draft a short note about the team offsite.",
]


def audited_ids(db_path: Path) -> set[str]:
    db = sqlite3.connect(db_path)
    try:
        return {row[0] for row in db.execute("SELECT decision_id FROM decisions")}
    finally:
        db.close()


class LoadClient(threading.Thread):
    """Sends /decide requests until told to stop or the server goes away."""

    def __init__(self, server: Server, index: int, body_text: str | None = None) -> None:
        super().__init__(daemon=True)
        self.server = server
        self.index = index
        self.body_text = body_text
        self.received: list[str] = []
        self.statuses: list[int] = []
        self.transport_errors = 0
        self.stop = threading.Event()

    def run(self) -> None:
        with httpx.Client(
            base_url=self.server.url, timeout=60, headers=bearer(GATEWAY_KEY)
        ) as http:
            n = 0
            while not self.stop.is_set():
                text = self.body_text or f"{PROMPTS[n % len(PROMPTS)]} (client {self.index}, #{n})"
                n += 1
                try:
                    response = http.post("/decide", json={"content": text})
                except httpx.TransportError:
                    self.transport_errors += 1
                    return
                self.statuses.append(response.status_code)
                if response.status_code == 200:
                    self.received.append(response.json()["decision_id"])
                if self.body_text is not None:
                    return  # one request each


def test_sigkill_under_load_loses_no_decision(tmp_path: Path) -> None:
    server = start_server(tmp_path, PE_DETECTION_BACKEND="patterns")
    clients = [LoadClient(server, i) for i in range(6)]
    for client in clients:
        client.start()
    deadline = time.monotonic() + 120
    while sum(len(c.received) for c in clients) < 60 and time.monotonic() < deadline:
        time.sleep(0.05)
    os.kill(server.process.pid, signal.SIGKILL)  # mid-run: requests are in flight
    server.process.wait()
    for client in clients:
        client.join(timeout=60)
    received = {decision_id for c in clients for decision_id in c.received}
    assert len(received) >= 60
    assert all(status == 200 for c in clients for status in c.statuses)
    assert sum(c.transport_errors for c in clients) >= 1  # the kill cut some requests off

    restarted = start_server(tmp_path, PE_DETECTION_BACKEND="patterns")
    try:
        assert received <= audited_ids(restarted.db_path)
        verified = run_cli(tmp_path, "audit", "verify")
        assert verified.returncode == 0, verified.stdout + verified.stderr
        with httpx.Client(base_url=restarted.url, timeout=60, headers=bearer(GATEWAY_KEY)) as http:
            after = http.post("/decide", json={"content": "after the crash"})
        assert after.status_code == 200
        assert after.json()["decision_id"] in audited_ids(restarted.db_path)
    finally:
        restarted.stop()


def test_sigterm_lets_in_flight_requests_finish_and_be_audited(tmp_path: Path) -> None:
    server = start_server(tmp_path, PE_DETECTION_BACKEND="patterns")
    # ~120 KB of text takes the pattern scanners a good part of a second each, and the
    # detector scans one text at a time: several requests are in flight at SIGTERM.
    slow_text = "Quarterly planning notes about gardening, weather and logistics. " * 1800
    clients = [LoadClient(server, i, body_text=slow_text) for i in range(4)]
    for client in clients:
        client.start()
    time.sleep(1.0)
    server.process.send_signal(signal.SIGTERM)
    for client in clients:
        client.join(timeout=120)
    server.process.wait(timeout=60)
    received = {decision_id for c in clients for decision_id in c.received}
    assert len(received) >= 1
    assert all(status == 200 for c in clients for status in c.statuses)
    assert received <= audited_ids(server.db_path)
    assert '"service_stopping"' in server.log_text()
    verified = run_cli(tmp_path, "audit", "verify")
    assert verified.returncode == 0, verified.stdout + verified.stderr


def test_audit_store_outage_answers_503_and_recovers_by_itself(tmp_path: Path) -> None:
    server = start_server(tmp_path, PE_DETECTION_BACKEND="patterns")
    try:
        with httpx.Client(base_url=server.url, timeout=120, headers=bearer(GATEWAY_KEY)) as http:
            before = http.post("/decide", json={"content": "before the outage"})
            assert before.status_code == 200
            # Another process takes the database's write lock and keeps it.
            with sqlite_write_lock(server.db_path):
                assert_no_decision_while_the_log_is_down(http)
            assert http.get("/readyz").status_code == 200
            after = http.post("/decide", json={"content": "after the outage"})
            assert after.status_code == 200
            assert after.json()["audit"]["sequence"] == before.json()["audit"]["sequence"] + 1
            metrics = http.get("/metrics").text
        assert "policy_engine_audit_failures_total 1.0" in metrics
        verified = run_cli(tmp_path, "audit", "verify")
        assert verified.returncode == 0, verified.stdout + verified.stderr
    finally:
        server.stop()
