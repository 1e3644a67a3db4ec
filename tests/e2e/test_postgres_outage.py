"""PostgreSQL stopped mid-run: /decide answers 503 (no decision without a record), /readyz
reports not ready, and the service recovers by itself when the database returns."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import (
    GATEWAY_KEY,
    assert_no_decision_while_the_log_is_down,
    bearer,
    run_cli,
    start_server,
)
from tests.pg_cluster import Cluster, _binaries, _unavailable


@pytest.fixture()
def own_cluster() -> Iterator[Cluster]:
    """A cluster of this test's own: stopping it must not disturb the session's cluster."""
    bindir = _binaries()
    if bindir is None:
        _unavailable("no initdb found under /usr/lib/postgresql/*/bin")
    assert bindir is not None
    root = Path(tempfile.mkdtemp(prefix="pe-pg-outage-"))
    cluster = Cluster(bindir, root)
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.stop()
        shutil.rmtree(root, ignore_errors=True)


def test_postgres_outage_answers_503_and_recovers_by_itself(
    own_cluster: Cluster, tmp_path: Path
) -> None:
    url = own_cluster.create_database()
    server = start_server(tmp_path, PE_AUDIT_URL=url, PE_DETECTION_BACKEND="patterns")
    try:
        with httpx.Client(base_url=server.url, timeout=60, headers=bearer(GATEWAY_KEY)) as http:
            before = http.post("/decide", json={"content": "before the outage"})
            assert before.status_code == 200, before.text

            own_cluster.stop()
            assert_no_decision_while_the_log_is_down(http)
            assert http.get("/healthz").status_code == 200  # alive, just not ready

            own_cluster.resume()
            assert http.get("/readyz").status_code == 200
            after = http.post("/decide", json={"content": "after the outage"})
            assert after.status_code == 200, after.text
            assert after.json()["audit"]["sequence"] == before.json()["audit"]["sequence"] + 1
            metrics = http.get("/metrics").text
        assert "policy_engine_audit_failures_total 1.0" in metrics
    finally:
        server.stop()
    verified = run_cli(tmp_path, "audit", "verify", PE_AUDIT_URL=url)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert "2 records" in verified.stdout
