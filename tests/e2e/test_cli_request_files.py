"""`policy-engine decide --file` and `explain --file` take the example request files
(`examples/requests/*.json`) as whole requests, context included; other files stay content."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from policy_engine.audit import SQLiteAuditStore
from tests.audit_support import documents
from tests.conftest import ROOT, run_cli

REQUESTS = sorted((ROOT / "examples" / "requests").glob("*.json"))
EXPECTED = {"clean": "any", "chat": "on_prem_only", "sensitive": "on_prem_only"}


def audited(workdir: Path) -> list[dict[str, object]]:
    return list(documents(SQLiteAuditStore(workdir / "audit.db").records()))


CASES = [("decide", p) for p in REQUESTS] + [("explain", ROOT / "examples/requests/chat.json")]


@pytest.mark.parametrize(("command", "path"), CASES, ids=[f"{c}-{p.stem}" for c, p in CASES])
def test_example_request_files_are_whole_requests(tmp_path: Path, command: str, path: Path) -> None:
    request = json.loads(path.read_text())
    result = run_cli(tmp_path, command, "--file", str(path), PE_DETECTION_BACKEND="patterns")
    assert result.returncode == 0, result.stderr
    decision = json.loads(result.stdout)
    assert decision["segment"] == EXPECTED[path.stem]
    assert ("explanation" in decision) == (command == "explain")
    wanted = request["context"].get("requested_endpoint")
    assert decision["requested_endpoint_allowed"] == (None if wanted is None else False)
    (record,) = audited(tmp_path)
    context = record["context"]
    assert isinstance(context, dict)
    for key in ("tenant", "application"):
        assert context[key] == request["context"][key]
    # The request's text was decided on, not the file's JSON: the audited size is the text's.
    texts = [request["content"]] if "content" in request else []
    for message in request.get("messages", []):
        content = message["content"]
        texts += [content] if isinstance(content, str) else [p["text"] for p in content]
    assert record["content_characters"] == sum(len(t) for t in texts)


def test_context_option_adds_to_a_request_file(tmp_path: Path) -> None:
    sensitive = ROOT / "examples" / "requests" / "sensitive.json"
    result = run_cli(
        tmp_path,
        "decide",
        "--file",
        str(sensitive),
        "--context",
        '{"application": "payroll"}',
        PE_DETECTION_BACKEND="patterns",
    )
    assert result.returncode == 0, result.stderr
    (record,) = audited(tmp_path)
    assert isinstance(record["context"], dict)
    assert record["context"]["application"] == "payroll"
    assert record["context"]["tenant"] == "acme"


def test_other_files_are_content(tmp_path: Path) -> None:
    plain = tmp_path / "note.txt"
    plain.write_text("My SSN is 536-22-8190.")
    other_json = tmp_path / "data.json"
    other_json.write_text('{"customer": "x", "ssn": "536-22-8190"}')
    for path in (plain, other_json):
        result = run_cli(tmp_path, "decide", "--file", str(path), PE_DETECTION_BACKEND="patterns")
        assert result.returncode == 0, result.stderr
        assert json.loads(result.stdout)["segment"] == "on_prem_only"
    records = audited(tmp_path)
    assert [r["content_characters"] for r in records] == [
        len(plain.read_text()),
        len(other_json.read_text()),
    ]


def test_a_request_file_with_an_unknown_field_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"content": "hello", "contxt": {"tenant": "acme"}}')
    result = run_cli(tmp_path, "decide", "--file", str(bad), PE_DETECTION_BACKEND="patterns")
    assert result.returncode == 2
    assert "invalid request: contxt: unknown field" in result.stderr


def test_a_request_on_standard_input(tmp_path: Path) -> None:
    chat = (ROOT / "examples" / "requests" / "chat.json").read_text()
    result = run_cli(tmp_path, "decide", input_text=chat, PE_DETECTION_BACKEND="patterns")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["segment"] == "on_prem_only"
    (record,) = audited(tmp_path)
    assert isinstance(record["context"], dict)
    assert record["context"]["application"] == "dev-assistant"
