"""docs/policies.md's explain examples run as written against a real server, and the
documented meaning of relative PE_AUDIT_URL paths holds."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import httpx

from tests.conftest import GATEWAY_KEY, ROOT, Server, run_cli

DOC = (ROOT / "docs" / "policies.md").read_text(encoding="utf-8")


def explain_curl() -> list[str]:
    """The documented `curl … /decide?explain=true …` command, split as a shell would."""
    (section,) = re.findall(r"### Explain\n\n```sh\n(.*?)```", DOC, re.DOTALL)
    command = next(c for c in section.replace("\\\n", " ").splitlines() if "curl" in c)
    return shlex.split(command.replace("$KEY", GATEWAY_KEY))


def test_the_documented_explain_request_is_answered(server: Server) -> None:
    words = explain_curl()
    url = next(w for w in words if "/decide" in w)
    headers = dict(
        tuple(part.strip() for part in words[i + 1].split(":", 1))
        for i, w in enumerate(words)
        if w == "-H"
    )
    body = words[words.index("-d") + 1]
    answer = httpx.post(
        "http://" + url.replace("localhost:8080", server.url.removeprefix("http://")),
        headers=headers,
        content=body,
        timeout=60,
    )
    assert answer.status_code == 200, answer.text
    explanation = answer.json()["explanation"]
    assert {r["rule"] for r in explanation["rules"]} >= {"hr.no_inadequate_jurisdiction"}


def test_relative_audit_url_is_relative_to_the_working_directory(tmp_path: Path) -> None:
    assert "relative to the working directory" in (ROOT / "README.md").read_text()
    assert (
        "relative to the process's working directory"
        in (ROOT / "docs" / "operations.md").read_text()
    )
    result = run_cli(
        tmp_path,
        "decide",
        "--text",
        "hello",
        PE_AUDIT_URL="sqlite:///logs/audit.db",
        PE_DETECTION_BACKEND="patterns",
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["audit"]["sequence"] == 1
    assert (tmp_path / "logs" / "audit.db").is_file()
