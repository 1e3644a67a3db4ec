"""`policy-engine detectors list` and `policy-engine scan` as a security team runs them."""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT, engine_env, run_cli

KEY = "AKIAZ7QW3RT5LM2XNB4Y"


def test_detectors_list_names_every_detector_with_types_and_file(tmp_path: Path) -> None:
    result = run_cli(tmp_path, "detectors", "list", "--json")
    assert result.returncode == 0, result.stderr
    rows = {row["id"]: row for row in json.loads(result.stdout)}
    assert rows["yaml:secrets/aws_access_key"]["entity_types"] == ["AWS_ACCESS_KEY"]
    assert rows["yaml:secrets/aws_access_key"]["source"] == str(ROOT / "detectors" / "secrets.yaml")
    assert rows["presidio:SpacyRecognizer"]["entity_types"] == ["LOCATION", "PERSON"]
    assert rows["yaml:markings/government_marking"]["category"] == "ip_marker"
    table = run_cli(tmp_path, "detectors", "list").stdout
    assert "yaml:codenames/codenames" in table and "codenames.yaml" in table


def test_detectors_list_reports_a_broken_file_with_its_line(tmp_path: Path) -> None:
    broken = tmp_path / "detectors"
    broken.mkdir()
    (broken / "bad.yaml").write_text(
        "recognizers:\n  - id: x\n    entity_type: X\n    category: secret\n"
        "    patterns:\n      - {name: p, regex: '(', score: 0.5}\n",
        encoding="utf-8",
    )
    result = run_cli(tmp_path, "detectors", "list", "--dir", str(broken))
    assert result.returncode == 2
    assert "bad.yaml:6: recognizer 'x': field 'patterns[0].regex': invalid regex" in result.stderr


def test_scan_explain_never_prints_values_into_a_pipe(tmp_path: Path) -> None:
    text = f"aws_access_key_id = {KEY}"
    result = run_cli(
        tmp_path, "scan", "--explain", "--show-values", "--backend", "patterns", "--text", text
    )
    assert result.returncode == 0, result.stderr
    assert "--show-values ignored" in result.stderr
    assert KEY not in result.stdout and KEY not in result.stderr
    assert "AWS_ACCESS_KEY (secret) [20:40]" in result.stdout
    assert "pattern access key id, base score 0.90, context +0.10 ('aws')" in result.stdout


def test_scan_show_values_on_a_terminal(tmp_path: Path) -> None:
    controller, terminal = pty.openpty()
    process = subprocess.Popen(
        [
            *(sys.executable, "-m", "policy_engine.cli", "scan", "--show-values"),
            *("--backend", "patterns", "--text", f"key {KEY}"),
        ],
        cwd=tmp_path,
        env=engine_env(tmp_path),
        stdout=terminal,
        stderr=subprocess.PIPE,
    )
    os.close(terminal)
    output = b""
    while True:
        try:
            chunk = os.read(controller, 4096)
        except OSError:
            break
        if not chunk:
            break
        output += chunk
    process.wait(timeout=120)
    os.close(controller)
    assert process.returncode == 0
    assert f"= '{KEY}'" in output.decode()


def test_scan_chat_names_message_and_part(tmp_path: Path) -> None:
    chat = [
        {"role": "system", "content": "Be brief."},
        {
            "role": "user",
            "content": [{"type": "text", "text": "hi"}, {"type": "text", "text": "SECRET//NOFORN"}],
        },
    ]
    result = run_cli(
        tmp_path,
        "scan",
        "--json",
        "--backend",
        "patterns",
        "--messages",
        "--text",
        json.dumps(chat),
    )
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)
    assert [(r["message"], r["part"], r["type"]) for r in rows] == [
        (1, 1, "CLASSIFICATION_MARKING")
    ]
    assert "value" not in rows[0]


def test_scan_input_errors_say_what_to_do(tmp_path: Path) -> None:
    both = run_cli(tmp_path, "scan", "--text", "a", "--file", str(ROOT / "README.md"))
    assert both.returncode == 2 and "give --text or --file, not both" in both.stderr
    bad_chat = run_cli(tmp_path, "scan", "--messages", "--text", "[{")
    assert bad_chat.returncode == 2 and "not valid JSON" in bad_chat.stderr
    empty = run_cli(tmp_path, "scan", "--text", "   ")
    assert empty.returncode == 2 and "'content' is empty" in empty.stderr
