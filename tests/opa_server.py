"""A real OPA for the tests: the binary from scripts/ensure-opa.sh (or PATH), and servers on
free loopback ports. Without a binary the OPA tests skip, except under CI=true, where they
fail: `make test` builds the binary first."""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.conftest import ROOT
from tests.local_services import free_port, unavailable

LOCAL_OPA = ROOT / "var" / "bin" / "opa"


def opa_binary() -> str:
    """The OPA binary; fails under CI=true when there is none, else skips."""
    found = str(LOCAL_OPA) if LOCAL_OPA.is_file() else shutil.which("opa")
    if found is None:
        unavailable(
            "no OPA binary: run scripts/ensure-opa.sh (make test does) to build var/bin/opa"
        )
    return found


@dataclass
class OpaServer:
    url: str
    port: int
    process: subprocess.Popen[bytes]
    log_path: Path

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start_opa(workdir: Path, extra_args: Sequence[str] = ()) -> OpaServer:
    """``opa run --server`` on a free loopback port; waits until /health answers."""
    workdir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    log_path = workdir / f"opa-{port}.log"
    with log_path.open("wb") as log_file:
        process = subprocess.Popen(
            [opa_binary(), "run", "--server", "--addr", f"127.0.0.1:{port}", *extra_args],
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
    server = OpaServer(f"http://127.0.0.1:{port}", port, process, log_path)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"opa exited: {log_path.read_text(errors='replace')}")
        try:
            if httpx.get(f"{server.url}/health", timeout=1).status_code == 200:
                return server
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    server.stop()
    raise RuntimeError(f"opa not ready: {log_path.read_text(errors='replace')}")
