"""Two service processes append to one PostgreSQL log at once: one gap-free, verified chain."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import httpx
import psycopg
import pytest

from tests.conftest import GATEWAY_KEY, Server, bearer, run_cli, start_server

REQUESTS_PER_THREAD = 15
THREADS_PER_SERVER = 4


def test_two_replicas_share_one_ordered_chain(
    postgres_url: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    shared = tmp_path_factory.mktemp("replicas")
    env = {
        "PE_AUDIT_URL": postgres_url,
        "PE_DETECTION_BACKEND": "patterns",
        "PE_AUDIT_SIGNING_KEY_FILE": str(shared / "audit-signing.key"),
        "PE_HMAC_KEY_FILE": str(shared / "hmac.key"),
        "PE_CHECKPOINT_EVERY": "7",
    }
    servers: list[Server] = []
    try:
        for name in ("a", "b"):
            servers.append(start_server(shared / name, **env))
        received: list[dict[str, object]] = []
        failures: list[str] = []
        lock = threading.Lock()

        def client(server: Server, worker: int) -> None:
            with httpx.Client(base_url=server.url, timeout=60, headers=bearer(GATEWAY_KEY)) as http:
                for n in range(REQUESTS_PER_THREAD):
                    content = f"Ticket {worker}-{n}: SSN 536-22-8190" if n % 2 else "Hello there"
                    response = http.post("/decide", json={"content": content})
                    with lock:
                        if response.status_code == 200:
                            received.append(response.json())
                        else:
                            failures.append(response.text)

        threads = [
            threading.Thread(target=client, args=(server, index * 10 + worker))
            for index, server in enumerate(servers)
            for worker in range(THREADS_PER_SERVER)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        for server in servers:
            server.stop()

    total = 2 * THREADS_PER_SERVER * REQUESTS_PER_THREAD
    assert failures == []
    assert len(received) == total
    with psycopg.connect(postgres_url) as conn:
        rows = conn.execute("SELECT sequence, decision_id, hash FROM decisions ORDER BY sequence")
        stored = rows.fetchall()
        checkpoints = conn.execute("SELECT count(*) FROM checkpoints").fetchone()
    assert [s for s, _, _ in stored] == list(range(1, total + 1))
    by_id = {d: (s, h) for s, d, h in stored}
    for decision in received:
        audit = decision["audit"]
        assert isinstance(audit, dict)
        assert by_id[str(decision["decision_id"])] == (audit["sequence"], audit["hash"])
    assert checkpoints is not None and checkpoints[0] >= total // 7

    verify = run_cli(shared, "audit", "verify", **env)
    assert verify.returncode == 0, verify.stdout + verify.stderr
    assert verify.stdout.startswith(f"OK: {total} records, hash chain intact")
    exported = run_cli(shared, "audit", "export", "--format", "jsonl", **env)
    assert json.loads(exported.stdout.splitlines()[0])["export"]["count"] == total
    Path(shared / "export.jsonl").write_text(exported.stdout)
    checked = run_cli(shared, "audit", "verify-export", "export.jsonl", **env)
    assert checked.returncode == 0, checked.stdout + checked.stderr
