"""The `policy-engine` command as a policy author and an auditor use it."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from tests.conftest import run_cli

SSN_TEXT = "Employee SSN: 536-22-8190, please update payroll."


def test_decide_text_prints_the_decision_and_audits_it(tmp_path: Path) -> None:
    result = run_cli(tmp_path, "decide", "--text", SSN_TEXT)
    assert result.returncode == 0, result.stderr
    decision = json.loads(result.stdout)
    assert decision["segment"] == "on_prem_only"
    assert decision["audit"]["sequence"] == 1
    db = sqlite3.connect(tmp_path / "audit.db")
    (caller,) = db.execute("SELECT json_extract(record, '$.caller') FROM decisions").fetchone()
    assert caller == "cli"
    assert "536-22-8190" not in result.stderr


def test_decide_from_file_and_stdin_agree(tmp_path: Path) -> None:
    source = tmp_path / "prompt.txt"
    source.write_text(SSN_TEXT)
    from_file = json.loads(run_cli(tmp_path, "decide", "--file", str(source)).stdout)
    from_stdin = json.loads(run_cli(tmp_path, "decide", input_text=SSN_TEXT).stdout)
    for key in ("segment", "allowed_endpoints", "findings", "reasons", "policy_revision"):
        assert from_file[key] == from_stdin[key]
    assert from_stdin["audit"]["sequence"] == from_file["audit"]["sequence"] + 1


def test_decide_messages_with_context(tmp_path: Path) -> None:
    messages = json.dumps([{"role": "user", "content": "Plan a team offsite agenda."}])
    result = run_cli(
        tmp_path,
        "decide",
        "--messages",
        "--context",
        '{"tenant": "acme", "declared_classification": "internal"}',
        input_text=messages,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["segment"] == "trusted_hosted"


def test_decide_empty_input_is_a_clear_error(tmp_path: Path) -> None:
    result = run_cli(tmp_path, "decide", "--text", "   ")
    assert result.returncode == 2
    assert "invalid request" in result.stderr
    assert "'content' is empty" in result.stderr
    assert "give --text TEXT, --file PATH or the content on standard input" in result.stderr
    assert "Traceback" not in result.stderr


def test_invalid_setting_stops_with_its_name(tmp_path: Path) -> None:
    result = run_cli(tmp_path, "decide", "--text", "hi", PE_CATALOG=str(tmp_path / "none.yaml"))
    assert result.returncode == 2
    assert "PE_CATALOG" in result.stderr
    serve = run_cli(tmp_path, "serve", PE_PORT="not-a-port")
    assert serve.returncode == 2
    assert "PE_PORT" in serve.stderr
    assert "Traceback" not in serve.stderr


def test_audit_verify_ok_then_names_an_edited_record(tmp_path: Path) -> None:
    for text in ("first note", "second note", SSN_TEXT):
        assert run_cli(tmp_path, "decide", "--text", text).returncode == 0
    ok = run_cli(tmp_path, "audit", "verify")
    assert (ok.returncode, ok.stdout.strip()) == (0, "OK: 3 records, hash chain intact")

    db = sqlite3.connect(tmp_path / "audit.db")
    db.execute(
        "UPDATE decisions SET record = json_set(record, '$.segment', 'any') WHERE sequence = 3"
    )
    db.commit()
    bad = run_cli(tmp_path, "audit", "verify")
    assert bad.returncode == 1
    assert "sequence 3" in bad.stdout and "edited" in bad.stdout


def test_audit_verify_names_a_deleted_record(tmp_path: Path) -> None:
    for text in ("one", "two", "three"):
        run_cli(tmp_path, "decide", "--text", text)
    db = sqlite3.connect(tmp_path / "audit.db")
    db.execute("DELETE FROM decisions WHERE sequence = 2")
    db.commit()
    bad = run_cli(tmp_path, "audit", "verify")
    assert bad.returncode == 1
    assert "record 2 is missing" in bad.stdout


def test_audit_verify_without_a_log_says_so(tmp_path: Path) -> None:
    result = run_cli(tmp_path, "audit", "verify")
    assert result.returncode == 2
    assert "no audit log" in result.stderr
