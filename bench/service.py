"""``policy-engine serve`` processes for the benchmark: start-up, latency, throughput.

Each worker is its own ``policy-engine serve`` process with its own audit log (two
processes are two service instances behind a gateway's load balancing); the client
spreads requests over them round-robin, :data:`IN_FLIGHT` at a time per worker.
"""

from __future__ import annotations

import concurrent.futures
import http.client
import itertools
import json
import os
import secrets
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from bench.measure import cpu_seconds, fail_closed, peak_rss_mb

ROOT = Path(__file__).resolve().parent.parent
#: Requests in flight per worker in the throughput runs. A worker overlaps the parts of
#: requests that run without the GIL (regopy, SQLite, spaCy's matrix code): with 2 in
#: flight, the two workers kept 1.4-1.6 of the 2 cores busy, with 4, 1.7.
IN_FLIGHT = 4


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Worker:
    process: subprocess.Popen[bytes]
    client: httpx.Client
    startup_s: float
    #: CPU seconds the process used until ready: steadier than wall time on a busy machine.
    startup_cpu_s: float

    def decide(self, body: dict[str, Any]) -> dict[str, Any]:
        response = self.client.post("/decide", json=body)
        response.raise_for_status()
        result: dict[str, Any] = response.json()
        return result

    def peak_rss_mb(self) -> float:
        return peak_rss_mb(self.process.pid)

    def stop(self) -> None:
        self.client.close()
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def start_worker(workdir: Path, **settings: str) -> Worker:
    """One ``policy-engine serve`` on a free port; start-up = spawn until /readyz is 200
    (wall time, and the CPU time the process used until then)."""
    workdir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    key = secrets.token_urlsafe(24)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PE_")}
    env.update(
        PE_PORT=str(port),
        PE_AUDIT_URL=f"sqlite:///{workdir / 'audit.db'}",
        PE_HMAC_KEY_FILE=str(workdir / "hmac.key"),
        PE_KEYS_FILE=str(workdir / "keys.json"),
        PE_LOG_LEVEL="warning",
        PE_BOOTSTRAP_KEYS=f"gateway:{key}",
    )
    env.update(settings)
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "policy_engine.cli", "serve"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    client = httpx.Client(
        base_url=f"http://127.0.0.1:{port}",
        timeout=300,
        headers={"Authorization": f"Bearer {key}"},
    )
    deadline = time.monotonic() + 120
    while True:
        try:
            if client.get("/readyz").status_code == 200:
                break
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline or process.poll() is not None:
            process.kill()
            raise SystemExit("the service did not become ready")
        time.sleep(0.02)
    startup_s = time.perf_counter() - started
    return Worker(process, client, startup_s, cpu_seconds(process.pid))


def throughput(
    workers: list[Worker], bodies: list[dict[str, Any]], path: str = "/decide"
) -> dict[str, Any]:
    """Requests/s of ``workers`` on ``bodies`` (POSTed to ``path``), sent from
    :data:`IN_FLIGHT` threads per worker.

    The load generator shares the machine's two cores with the workers, so it is kept
    lean: bodies are encoded before the clock starts, and each thread keeps one
    ``http.client`` connection per worker (httpx costs about three times the CPU per
    request). Its CPU time per request is reported as ``client_cpu_ms``.
    """
    lock = threading.Lock()
    cycle = itertools.cycle(range(len(workers)))
    local = threading.local()
    failed_closed = 0
    encoded = [json.dumps(body).encode("utf-8") for body in bodies]

    def send(body: bytes) -> None:
        nonlocal failed_closed
        with lock:
            index = next(cycle)
        connections: dict[int, http.client.HTTPConnection] = local.__dict__.setdefault(
            "connections", {}
        )
        worker = workers[index]
        connection = connections.get(index)
        if connection is None:
            url = worker.client.base_url
            connection = connections[index] = http.client.HTTPConnection(
                str(url.host), url.port, timeout=300
            )
        headers = {
            "Authorization": worker.client.headers["Authorization"],
            "Content-Type": "application/json",
        }
        try:
            connection.request("POST", path, body=body, headers=headers)
            response = connection.getresponse()
        except (BrokenPipeError, ConnectionResetError, http.client.RemoteDisconnected):
            # the server closed the idle keep-alive connection: once more on a new one
            connection.close()
            connection.request("POST", path, body=body, headers=headers)
            response = connection.getresponse()
        answer = response.read()
        if response.status != 200:
            raise SystemExit(f"{path} answered {response.status}")
        if path == "/decide" and fail_closed(json.loads(answer)):
            with lock:
                failed_closed += 1

    cpu_started = time.process_time()
    started = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(max_workers=IN_FLIGHT * len(workers)) as pool:
        list(pool.map(send, encoded))
    wall = time.perf_counter() - started
    return {
        "processes": len(workers),
        "requests": len(bodies),
        "requests_per_s": round(len(bodies) / wall, 2),
        "fail_closed": failed_closed,
        "client_cpu_ms": round((time.process_time() - cpu_started) * 1000 / len(bodies), 2),
    }
