"""`policy-engine audit …` and `policy-engine replay` as an auditor runs them."""

from __future__ import annotations

import csv
import io
import json
import shutil
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from policy_engine import Engine
from policy_engine.settings import Settings, load_settings
from tests.conftest import ROOT, engine_env, run_cli
from tests.detector_support import FailingNer

SSN = "536-22-8190"
CONTENTS = [
    f"Employee SSN: {SSN}, please update payroll.",
    "Summarize the meeting notes please.",
    "Write to jane.doe@example.com about the invoice.",
]
TENANT_LOCK = """package segmentation.rules.tenant_lock

isolation contains {"rule": "tenant_lock.globex", "segment": "on_prem_only",
                    "message": "globex content stays on-prem"} if {
	input.context.tenant == "globex"
}
"""


def settings_for(workdir: Path, **env: str) -> Settings:
    """The settings the CLI will read (pattern detection only)."""
    environment = engine_env(workdir, PE_DETECTION_BACKEND="patterns", **env)
    overrides = {
        k.removeprefix("PE_").lower(): v for k, v in environment.items() if k.startswith("PE_")
    }
    return load_settings(**overrides)


def seed(workdir: Path, count: int = 9, **env: str) -> list[dict[str, Any]]:
    """Decide ``count`` requests in-process, with the same settings the CLI will read."""
    decisions = []
    with Engine.from_settings(settings_for(workdir, **env)) as engine:
        for n in range(count):
            context = {"tenant": ["acme", "globex", "initech"][n % 3]}
            decision = engine.decide({"content": CONTENTS[n % 3], "context": context})
            decisions.append({**decision.model_dump(mode="json"), "context": context})
    return decisions


def cli(workdir: Path, *args: str, **env: str) -> Any:
    return run_cli(workdir, *args, PE_DETECTION_BACKEND="patterns", **env)


#: The tables that hold a record and what is kept beside it.
SEQUENCED = ("decisions", "decision_rules", "decision_entities")


def tamper(workdir: Path, *statements: str) -> None:
    """Change the log's database directly, as someone with write access to it could."""
    db = sqlite3.connect(workdir / "audit.db")
    for statement in statements:
        db.execute(statement)
    db.commit()
    db.close()


@pytest.fixture()
def logged(tmp_path: Path) -> tuple[Path, list[dict[str, Any]]]:
    return tmp_path, seed(tmp_path, PE_CHECKPOINT_EVERY="4")


def test_verify_ok_then_names_a_truncated_tail(logged: tuple[Path, list[dict[str, Any]]]) -> None:
    workdir, _ = logged
    ok = cli(workdir, "audit", "verify")
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.strip() == "OK: 9 records, hash chain intact, 2 signed checkpoints valid"
    tamper(workdir, *(f"DELETE FROM {t} WHERE sequence > 6" for t in SEQUENCED))
    tamper(workdir, "UPDATE audit_head SET sequence = 6")
    bad = cli(workdir, "audit", "verify")
    assert bad.returncode == 1
    assert bad.stdout.startswith("FAILED at sequence 8: truncated:")
    assert "records 7..8 were removed" in bad.stdout


def test_verify_warns_when_the_tail_went_with_its_checkpoints_and_strict_fails(
    logged: tuple[Path, list[dict[str, Any]]],
) -> None:
    """The attack: the last record and the checkpoint at 8 removed, the head row fixed. No
    signed checkpoint is contradicted, but 4 records follow checkpoint 4 and the service
    signs at every 4th (PE_CHECKPOINT_EVERY=4)."""
    workdir, _ = logged
    tamper(workdir, *(f"DELETE FROM {t} WHERE sequence > 8" for t in SEQUENCED))
    tamper(workdir, "DELETE FROM checkpoints WHERE sequence > 4")
    tamper(workdir, "UPDATE audit_head SET sequence = 8, hash ="
           " (SELECT hash FROM decisions WHERE sequence = 8)")  # fmt: skip
    warned = cli(workdir, "audit", "verify", PE_CHECKPOINT_EVERY="4")
    assert warned.returncode == 0, warned.stdout + warned.stderr
    first, warning = warned.stdout.splitlines()
    assert first == "OK: 8 records, hash chain intact, 1 signed checkpoint valid"
    assert warning.startswith("warning at sequence 8: stale_checkpoint: 4 records follow")
    assert "PE_CHECKPOINT_EVERY=4" in warning
    strict = cli(workdir, "audit", "verify", "--strict", PE_CHECKPOINT_EVERY="4")
    assert strict.returncode == 1
    assert strict.stdout.startswith("FAILED at sequence 8: stale_checkpoint: 4 records follow")


def test_verify_names_a_column_that_misleads_queries(
    logged: tuple[Path, list[dict[str, Any]]],
) -> None:
    """An on-prem decision's segment column set to 'any', and the rule rows of another
    deleted: `audit query` leaves both out; `audit verify` names record and column."""
    workdir, decisions = logged
    on_prem = [n + 1 for n, d in enumerate(decisions) if d["segment"] == "on_prem_only"]
    first, second = on_prem[0], on_prem[1]
    rule = decisions[second - 1]["reasons"][0]["rule"]

    def found(*filters: str) -> list[int]:
        result = cli(workdir, "audit", "query", *filters, "--format", "jsonl")
        return [json.loads(line)["sequence"] for line in result.stdout.splitlines()]

    assert first in found("--segment", "on_prem_only") and second in found("--rule", rule)
    tamper(
        workdir,
        f"UPDATE decisions SET segment = 'any' WHERE sequence = {first}",
        f"DELETE FROM decision_rules WHERE sequence = {second}",
    )
    assert first not in found("--segment", "on_prem_only")  # wrong answers
    assert second not in found("--rule", rule)
    bad = cli(workdir, "audit", "verify")
    assert bad.returncode == 1
    assert bad.stdout.startswith(
        f"FAILED at sequence {first}: index_mismatch: decisions.segment is 'any' but the"
        " record says 'on_prem_only'"
    )
    tamper(workdir, f"UPDATE decisions SET segment = 'on_prem_only' WHERE sequence = {first}")
    bad = cli(workdir, "audit", "verify")
    assert bad.stdout.startswith(
        f"FAILED at sequence {second}: index_mismatch: decision_rules lacks '{rule}'"
    )


def test_verify_names_a_forged_checkpoint_and_needs_the_right_key(
    logged: tuple[Path, list[dict[str, Any]]],
) -> None:
    workdir, _ = logged
    db = sqlite3.connect(workdir / "audit.db")
    db.execute("UPDATE checkpoints SET time = '2020-01-01T00:00:00.000000Z' WHERE sequence = 4")
    db.commit()
    db.close()
    bad = cli(workdir, "audit", "verify")
    assert bad.returncode == 1
    assert "FAILED at sequence 4: forged_checkpoint" in bad.stdout
    (workdir / "var").mkdir(exist_ok=True)
    other = cli(workdir, "audit", "verify", PE_AUDIT_SIGNING_KEY_FILE=str(workdir / "none.key"))
    assert other.returncode == 2
    assert "--public-key" in other.stderr


def test_verify_shows_progress_when_asked(logged: tuple[Path, list[dict[str, Any]]]) -> None:
    workdir, _ = logged
    result = cli(workdir, "audit", "verify", "--progress")
    assert result.returncode == 0
    assert "verifying" in result.stderr
    assert "verifying" not in cli(workdir, "audit", "verify").stderr


def test_public_key_lets_an_auditor_verify_elsewhere(
    logged: tuple[Path, list[dict[str, Any]]], tmp_path_factory: pytest.TempPathFactory
) -> None:
    workdir, _ = logged
    exported = cli(workdir, "audit", "public-key")
    assert exported.returncode == 0
    assert exported.stdout.startswith("-----BEGIN PUBLIC KEY-----")
    auditor = tmp_path_factory.mktemp("auditor")
    (auditor / "service.pub").write_text(exported.stdout)
    result = cli(
        workdir,
        "audit",
        "verify",
        "--public-key",
        str(auditor / "service.pub"),
        PE_AUDIT_SIGNING_KEY_FILE=str(auditor / "absent.key"),
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 signed checkpoints valid" in result.stdout


def test_query_filters_as_jsonl_and_table(logged: tuple[Path, list[dict[str, Any]]]) -> None:
    workdir, decisions = logged
    result = cli(workdir, "audit", "query", "--tenant", "globex", "--format", "jsonl")
    assert result.returncode == 0, result.stderr
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["decision_id"] for r in records] == [
        d["decision_id"] for d in decisions if d["context"]["tenant"] == "globex"
    ]
    table = cli(workdir, "audit", "query", "--entity-type", "US_SSN")
    assert table.returncode == 0
    ssn_ids = [
        d["decision_id"] for d in decisions if d["findings"] and d["context"]["tenant"] == "acme"
    ]
    assert all(i in table.stdout for i in ssn_ids)
    assert SSN not in table.stdout
    paged = cli(workdir, "audit", "query", "--limit", "4", "--format", "jsonl")
    cursor = paged.stderr.split("--cursor ")[1].split()[0]
    rest = cli(workdir, "audit", "query", "--cursor", cursor, "--format", "jsonl")
    sequences = [json.loads(x)["sequence"] for x in (paged.stdout + rest.stdout).splitlines()]
    assert sequences == list(range(1, 10))


def test_query_rejects_bad_filters(logged: tuple[Path, list[dict[str, Any]]]) -> None:
    workdir, _ = logged
    result = cli(workdir, "audit", "query", "--segment", "nowhere")
    assert result.returncode == 2
    assert "--segment" in result.stderr


def test_export_jsonl_carries_a_proof_that_verify_export_checks(
    logged: tuple[Path, list[dict[str, Any]]],
) -> None:
    workdir, decisions = logged
    result = cli(workdir, "audit", "export", "--format", "jsonl", "--since", "2020-01-01")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    proof = json.loads(lines[0])["export"]
    assert (proof["first_sequence"], proof["last_sequence"], proof["count"]) == (1, 9, 9)
    assert [c["sequence"] for c in proof["checkpoints"]] == [4, 8]
    assert [json.loads(x)["decision_id"] for x in lines[1:]] == [
        d["decision_id"] for d in decisions
    ]
    (workdir / "export.jsonl").write_text(result.stdout)
    checked = cli(workdir, "audit", "verify-export", "export.jsonl")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "OK: 9 records 1..9" in checked.stdout
    assert "records 9..9 are after the last checkpoint" in checked.stdout
    edited = result.stdout.replace('"segment":"any"', '"segment":"on_prem_only"', 1)
    assert edited != result.stdout
    (workdir / "edited.jsonl").write_text(edited)
    bad = cli(workdir, "audit", "verify-export", "edited.jsonl")
    assert bad.returncode == 1
    assert ": edited:" in bad.stdout


def test_export_csv_to_a_file_with_its_proof(logged: tuple[Path, list[dict[str, Any]]]) -> None:
    workdir, decisions = logged
    window = ["--since", decisions[0]["audit"] and "2020-01-01", "--until", "2999-01-01"]
    result = cli(workdir, "audit", "export", "--format", "csv", *window, "--output", "out.csv")
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    assert "exported 9 records" in result.stderr
    rows = list(csv.DictReader(io.StringIO((workdir / "out.csv").read_text())))
    assert [r["decision_id"] for r in rows] == [d["decision_id"] for d in decisions]
    assert rows[1]["tenant"] == "globex"
    checked = cli(workdir, "audit", "verify-export", "out.csv", "--proof", "out.csv.proof.json")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    beside = cli(workdir, "audit", "verify-export", "out.csv")  # finds out.csv.proof.json
    assert beside.returncode == 0, beside.stdout + beside.stderr
    assert beside.stdout.startswith("OK: 9 records 1..9, chain intact from the anchor, 2 signed")
    (workdir / "out.csv.proof.json").rename(workdir / "kept-apart.json")
    missing_proof = cli(workdir, "audit", "verify-export", "out.csv")
    assert missing_proof.returncode == 2
    assert "no out.csv.proof.json; give --proof FILE" in missing_proof.stderr


def test_verify_export_checks_the_csv_columns_people_read(
    logged: tuple[Path, list[dict[str, Any]]],
) -> None:
    """A reader of the CSV sees its columns, not the record beside them: an on-prem row
    whose visible segment says 'any' fails, naming the row and the column."""
    workdir, decisions = logged
    cli(workdir, "audit", "export", "--format", "csv", "--output", "out.csv")
    text = (workdir / "out.csv").read_text()
    rows = list(csv.DictReader(io.StringIO(text)))
    number = next(n for n, row in enumerate(rows, 1) if row["segment"] == "on_prem_only")
    rows[number - 1]["segment"] = "any"
    edited = io.StringIO()
    writer = csv.DictWriter(edited, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    (workdir / "edited.csv").write_text(edited.getvalue())
    (workdir / "edited.csv.proof.json").write_text((workdir / "out.csv.proof.json").read_text())
    bad = cli(workdir, "audit", "verify-export", "edited.csv")
    assert bad.returncode == 1, bad.stdout + bad.stderr
    assert bad.stdout.startswith(
        f"FAILED at sequence {rows[number - 1]['sequence']}: column_mismatch: CSV row {number}:"
        " segment says 'any' but the record says 'on_prem_only'"
    )
    assert len(decisions) == len(rows)


@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
def test_verify_export_without_a_trusted_key_says_how_to_give_one(
    logged: tuple[Path, list[dict[str, Any]]], fmt: str
) -> None:
    """A genuine export is not "forged" because the auditor's machine has no key: exit 2
    with the advice `verify` gives."""
    workdir, _ = logged
    made = cli(workdir, "audit", "export", "--format", fmt, "--output", f"out.{fmt}")
    assert made.returncode == 0, made.stderr
    elsewhere = {"PE_AUDIT_SIGNING_KEY_FILE": str(workdir / "no-such.key")}
    result = cli(workdir, "audit", "verify-export", f"out.{fmt}", **elsewhere)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "forged" not in result.stdout + result.stderr
    assert "signed checkpoints but no public key to check them: pass --public-key FILE" in (
        result.stderr
    )
    live = cli(workdir, "audit", "verify", **elsewhere)
    assert live.returncode == 2
    advice = live.stderr.split("signed checkpoints", 1)[1]
    assert advice in result.stderr
    public = cli(workdir, "audit", "public-key").stdout
    (workdir / "service.pub").write_text(public)
    keyed = cli(workdir, "audit", "verify-export", f"out.{fmt}", "--public-key", "service.pub",
                **elsewhere)  # fmt: skip
    assert keyed.returncode == 0, keyed.stdout + keyed.stderr


def test_stats_over_a_period(logged: tuple[Path, list[dict[str, Any]]]) -> None:
    workdir, decisions = logged
    result = cli(workdir, "audit", "stats", "--since", "2020-01-01", "--format", "json")
    assert result.returncode == 0, result.stderr
    stats = json.loads(result.stdout)
    assert stats["total"] == len(decisions)
    per_segment: dict[str, int] = {}
    for row in stats["by_segment_outcome"]:
        per_segment[row["segment"]] = per_segment.get(row["segment"], 0) + row["count"]
    for segment in {d["segment"] for d in decisions}:
        assert per_segment[segment] == sum(1 for d in decisions if d["segment"] == segment)
    assert {"entity_type": "US_SSN", "count": 3} in stats["top_entity_types"]
    table = cli(workdir, "audit", "stats")
    assert "top rules" in table.stdout and "9 decisions" in table.stdout


def test_find_value_matches_detected_values_and_never_prints_them(
    logged: tuple[Path, list[dict[str, Any]]],
) -> None:
    workdir, decisions = logged
    result = cli(workdir, "audit", "find-value", SSN, "--format", "jsonl")
    assert result.returncode == 0, result.stderr
    found = [json.loads(line)["decision_id"] for line in result.stdout.splitlines()]
    assert found == [d["decision_id"] for i, d in enumerate(decisions) if i % 3 == 0]
    assert SSN not in result.stdout + result.stderr
    other = cli(workdir, "audit", "find-value", "111-22-3333", "--format", "jsonl")
    assert other.returncode == 0 and other.stdout == ""
    stdin = run_cli(workdir, "audit", "find-value", "-", "--format", "jsonl", input_text=SSN)
    assert len(stdin.stdout.splitlines()) == 3


def test_replay_reports_what_a_candidate_policy_would_change(
    logged: tuple[Path, list[dict[str, Any]]],
) -> None:
    workdir, decisions = logged
    candidate = workdir / "candidate"
    shutil.copytree(ROOT / "policies", candidate)
    (candidate / "rules" / "tenant_lock").mkdir()
    (candidate / "rules" / "tenant_lock" / "tenant_lock.rego").write_text(TENANT_LOCK)
    result = cli(
        workdir, "replay", "--policies", str(candidate), "--since", "2020-01-01", "--format",
        "json",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    globex = [d for d in decisions if d["context"]["tenant"] == "globex"]
    changing = [d for d in globex if d["segment"] != "on_prem_only"]
    assert report["considered"] == report["replayed"] == len(decisions)
    assert report["changed"] == len(changing) > 0
    assert report["by_tenant"] == [{"tenant": "globex", "changed": len(changing)}]
    assert {r["rule"]: r["added"] for r in report["rules"]}["tenant_lock.globex"] == len(changing)
    for transition in report["transitions"]:
        assert transition["to"] == "on_prem_only"
        assert set(transition["examples"]) <= {d["decision_id"] for d in changing}
    text = cli(workdir, "replay", "--policies", str(candidate), "--since", "2020-01-01")
    assert f"{len(changing)} would change" in text.stdout
    same = cli(workdir, "replay", "--policies", str(ROOT / "policies"), "--since", "2020-01-01")
    assert "0 would change" in same.stdout


def test_replay_skips_decisions_whose_detection_timed_out_or_failed(
    logged: tuple[Path, list[dict[str, Any]]],
) -> None:
    """Their records hold only the findings of the stages that completed: replayed, the
    policies that made them would seem to relax them (on_prem_only -> any)."""
    workdir, decisions = logged
    with Engine.from_settings(settings_for(workdir)) as engine:
        for how in ("times out", "fails", "times out"):
            failing = Engine(
                detector=FailingNer(how),  # type: ignore[arg-type]
                evaluator=engine.evaluator,
                catalog=engine.catalog,
                audit_log=engine.audit_log,  # the same log, closed with ``engine``
                digester=engine.digester,
                scan_deadline_seconds=0.3,
            )
            decision = failing.decide({"content": "Summarize the meeting notes please."})
            failing.scanner.close()
            assert decision.outcome == "fail_closed"
    result = cli(workdir, "replay", "--policies", str(ROOT / "policies"), "--since", "2020-01-01",
                 "--format", "json")  # fmt: skip
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["considered"] == len(decisions) + 3
    assert report["replayed"] == len(decisions)
    assert report["skipped"] == {"scan_timeout": 2, "engine.detection_failed": 1}
    assert report["changed"] == 0
    text = cli(workdir, "replay", "--policies", str(ROOT / "policies"), "--since", "2020-01-01")
    skipped = "3 skipped (detection timed out: 2, detection failed: 1)"
    assert f"{len(decisions)} replayed, {skipped}, 0 errors" in text.stdout


def test_replay_with_a_broken_candidate_says_so(logged: tuple[Path, list[dict[str, Any]]]) -> None:
    workdir, _ = logged
    broken = workdir / "broken"
    shutil.copytree(ROOT / "policies", broken)
    (broken / "rules" / "bad.rego").write_text("package segmentation.rules.bad\nthis is not rego")
    result = cli(workdir, "replay", "--policies", str(broken), "--since", "2020-01-01")
    assert result.returncode == 2
    assert "--policies" in result.stderr


def test_checkpoint_on_demand_signs_the_head_once(tmp_path: Path) -> None:
    seed(tmp_path, 3)
    first = cli(tmp_path, "audit", "checkpoint")
    assert first.returncode == 0, first.stderr
    assert first.stdout.startswith("signed checkpoint at sequence 3 (ed25519:")
    again = cli(tmp_path, "audit", "checkpoint")
    assert again.stdout.startswith("no new checkpoint")
    verified = cli(tmp_path, "audit", "verify")
    assert verified.stdout.strip() == "OK: 3 records, hash chain intact, 1 signed checkpoint valid"
