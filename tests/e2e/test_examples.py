"""Everything in examples/ runs as written."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.conftest import ROOT, engine_env

REQUESTS = sorted((ROOT / "examples" / "requests").glob("*.json"))


def test_gateway_example_runs(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "gateway.py")],
        cwd=ROOT,
        env=engine_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert [line.split()[0] for line in lines] == ["any", "trusted_hosted", "on_prem_only"]
    assert "onprem-qwen3-32b" in lines[2]


@pytest.mark.parametrize("path", REQUESTS, ids=[p.stem for p in REQUESTS])
def test_example_requests_are_accepted(client: httpx.Client, path: Path) -> None:
    response = client.post("/decide", json=json.loads(path.read_text()))
    assert response.status_code == 200, response.text
    expected = {"clean": "any", "chat": "on_prem_only", "sensitive": "on_prem_only"}[path.stem]
    assert response.json()["segment"] == expected
