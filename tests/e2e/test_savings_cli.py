"""`policy-engine audit savings`, text and JSON, on a log whose numbers were computed by hand
(tests/savings_support.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from policy_engine.audit import SQLiteAuditStore
from tests.conftest import run_cli
from tests.savings_support import DAY, EXPECTED_TOTAL, savings_log


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("savings")
    store = SQLiteAuditStore(directory / "audit.db")
    try:
        for record in savings_log():
            store.append(record)
    finally:
        store.close()
    return directory


def test_json_report(workdir: Path) -> None:
    done = run_cli(workdir, "audit", "savings", "--format", "json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["total"] == EXPECTED_TOTAL
    assert report["tokens"]["measured"] == {
        "decisions": 1,
        "input_tokens": 1200,
        "output_tokens": 300,
    }
    assert report["kept_from_cheaper"]["extra_usd"] == "0.00128755"


def test_text_report(workdir: Path) -> None:
    done = run_cli(workdir, "audit", "savings")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert "baseline: gpt-4o ($2.50/$10.00 per Mtok in/out)" in lines
    assert (
        "7 decisions: 4 priced (1 with a delivery record), 1 with no endpoint allowed,"
        " 1 not delivered (every attempt failed)" in lines
    )
    assert "not in the catalog, left out: retired-endpoint (1)" in lines
    assert "chosen $0.0024  baseline $0.0211  saved $0.0187 (88.71%)" in lines
    segment = next(line for line in lines if line.strip().startswith("trusted_hosted"))
    assert segment.split() == [
        "trusted_hosted", "2", "chosen", "$0.0009", "baseline", "$0.0073", "saved", "$0.0064",
        "(88.00%)",
    ]  # fmt: skip
    assert any(
        line.startswith("tokens: measured for 1 decisions (1200 in, 300 out") for line in lines
    )
    assert lines[-1].startswith(
        "kept from a cheaper endpoint by compliance: 3 decisions (policy 2, segment 1),"
        " costing $0.0013 more"
    )


def test_period_and_baseline(workdir: Path) -> None:
    done = run_cli(
        workdir,
        "audit", "savings", "--since", f"{DAY}T10:00:03Z", "--baseline", "deepseek-v4-pro",
        "--format", "json",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["since"] == f"{DAY}T10:00:03.000000Z"
    assert report["baseline"]["endpoint"] == "deepseek-v4-pro"
    # C (measured: 1200*0.55 + 300*2.20) and D (100*0.55 + 100*2.20), per million.
    assert report["total"]["baseline_usd"] == "0.001595"
    assert report["total"]["chosen_usd"] == "0.00087"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--baseline", "nope"], "--baseline: baseline 'nope' is not in the catalog (known:"),
        (["--since", "yesterday-ish"], "--since: 'yesterday-ish' is not a date or time"),
    ],
)
def test_bad_options_get_a_clear_error(workdir: Path, args: list[str], message: str) -> None:
    done = run_cli(workdir, "audit", "savings", *args)
    assert done.returncode == 2
    assert message in done.stderr
    assert "Traceback" not in done.stderr
