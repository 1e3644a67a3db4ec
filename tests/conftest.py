"""Shared fixtures: a real `policy-engine serve` process on a free loopback port."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest

if TYPE_CHECKING:
    from policy_engine.settings import Settings

from tests.audit_support import backend, signer  # noqa: F401  (fixtures)
from tests.local_services import free_port
from tests.pg_cluster import pg_cluster, postgres_url  # noqa: F401  (fixtures)

ROOT = Path(__file__).resolve().parent.parent

#: API keys every test server knows (PE_BOOTSTRAP_KEYS), one per role.
GATEWAY_KEY = "test-gateway-key-0123456789"
AUDITOR_KEY = "test-auditor-key-0123456789"
ADMIN_KEY = "test-admin-key-0123456789ab"
TEST_KEYS = f"gateway:{GATEWAY_KEY},auditor:{AUDITOR_KEY},admin:{ADMIN_KEY}"


def bearer(key: str) -> dict[str, str]:
    """The Authorization header for ``key``."""
    return {"Authorization": f"Bearer {key}"}


def in_process_settings(workdir: Path, **overrides: Any) -> Settings:
    """Settings for an in-process :class:`~policy_engine.Engine` with its state in ``workdir``
    and the shipped policies, detectors and example catalog."""
    from policy_engine.settings import load_settings

    return load_settings(
        **{
            "audit_url": f"sqlite:///{workdir / 'audit.db'}",
            "hmac_key_file": workdir / "hmac.key",
            "policies_dir": ROOT / "policies",
            "detectors_dir": ROOT / "detectors",
            "catalog": ROOT / "examples" / "catalog.yaml",
            **overrides,
        }
    )


def engine_env(workdir: Path, **extra: str) -> dict[str, str]:
    """Environment for a service or CLI run whose state lives in ``workdir``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PE_")}
    env.update(
        PE_AUDIT_URL=f"sqlite:///{workdir / 'audit.db'}",
        PE_HMAC_KEY_FILE=str(workdir / "hmac.key"),
        PE_KEYS_FILE=str(workdir / "keys.json"),
        PE_AUDIT_SIGNING_KEY_FILE=str(workdir / "audit-signing.key"),
        PE_POLICIES_DIR=str(ROOT / "policies"),
        PE_DETECTORS_DIR=str(ROOT / "detectors"),
        PE_CATALOG=str(ROOT / "examples" / "catalog.yaml"),
    )
    env.update(extra)
    return env


@dataclass
class Server:
    url: str
    workdir: Path
    log_path: Path
    process: subprocess.Popen[bytes]

    @property
    def db_path(self) -> Path:
        return self.workdir / "audit.db"

    def log_text(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start_server(workdir: Path, port: int | None = None, **extra_env: str) -> Server:
    """Start `policy-engine serve` and wait until /readyz answers 200.

    The server knows the test keys (:data:`TEST_KEYS`) unless ``PE_BOOTSTRAP_KEYS`` is given;
    it listens on ``port`` (to restart a stopped server at its address), else a free one.
    """
    workdir.mkdir(parents=True, exist_ok=True)
    extra_env.setdefault("PE_BOOTSTRAP_KEYS", TEST_KEYS)
    port = free_port() if port is None else port
    log_path = workdir / "server.log"
    env = engine_env(workdir, PE_PORT=str(port), PE_LOG_LEVEL="debug", **extra_env)
    with log_path.open("wb") as log_file:
        process = subprocess.Popen(
            [sys.executable, "-m", "policy_engine.cli", "serve"],
            cwd=workdir,
            env=env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
    server = Server(f"http://127.0.0.1:{port}", workdir, log_path, process)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}:\n{server.log_text()}")
        try:
            if httpx.get(server.url + "/readyz", timeout=2).status_code == 200:
                return server
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    server.stop()
    raise RuntimeError(f"server not ready in time:\n{server.log_text()}")


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    # A generous scan deadline: the shipped 2 s one has its own tests
    # (tests/e2e/test_limits_http.py), and here long texts (the context-window test) must
    # finish on a busy 2-core machine.
    srv = start_server(tmp_path_factory.mktemp("server"), PE_SCAN_DEADLINE_SECONDS="120")
    yield srv
    srv.stop()


@pytest.fixture(scope="session")
def client(server: Server) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=60, headers=bearer(GATEWAY_KEY)) as http:
        yield http


def run_cli(
    workdir: Path, *args: str, input_text: str | None = None, **env: str
) -> subprocess.CompletedProcess[str]:
    """Run `policy-engine ARGS` with state in ``workdir``."""
    return subprocess.run(
        [sys.executable, "-m", "policy_engine.cli", *args],
        cwd=workdir,
        env=engine_env(workdir, **env),
        input=input_text,
        capture_output=True,
        text=True,
        timeout=300,
    )


def assert_no_decision_while_the_log_is_down(http: httpx.Client) -> None:
    """With the audit store unwritable: /decide answers 503 without a decision, and the
    service is not ready."""
    during = http.post("/decide", json={"content": "during the outage"})
    assert during.status_code == 503
    assert during.json()["error"] == "audit_unavailable"
    assert "decision_id" not in during.text
    ready = http.get("/readyz")
    assert ready.status_code == 503
    assert ready.json()["checks"]["audit_store"] == "not writable"
