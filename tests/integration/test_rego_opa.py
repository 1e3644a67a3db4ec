"""The shipped policies on a real OPA (var/bin/opa from scripts/ensure-opa.sh, or PATH): its
own test runner passes them, and it decides exactly as the embedded evaluator does. Under
CI=true a missing OPA fails these tests (tests/opa_server.py)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from policy_engine.policy import EmbeddedEvaluator, load_policy_set
from tests.opa_server import opa_binary

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ROOT / "policies"

CATALOG = {
    "endpoints": [
        {"id": "onprem-unpinned", "vendor": "self", "deployment": "on_prem"},
        {"id": "acme", "vendor": "Acme AI", "deployment": "public_hosted"},
        {"id": "together", "vendor": "Together AI", "deployment": "trusted_hosted"},
        {"id": "gpt-4o", "vendor": "OpenAI", "deployment": "public_hosted"},
    ]
}


def finding(entity_type: str, category: str) -> dict[str, Any]:
    return {"type": entity_type, "category": category, "count": 1, "max_score": 1, "detector": "t"}


INPUTS = [
    {"context": {}, "findings": [], "entity_types": [], "categories": []},
    {
        "context": {"declared_classification": " Internal "},
        "findings": [finding("PERSON", "pii"), finding("US_SSN", "pii"), finding("KEY", "secret")],
        "entity_types": ["KEY", "PERSON", "US_SSN"],
        "categories": ["pii", "secret"],
    },
    {
        "context": {"declared_classification": "eyes only", "user": 'a "quoted" \\ user'},
        "findings": [finding("CODE", "source_code"), finding("MARK", "ip_marker")],
        "entity_types": ["CODE", "MARK"],
        "categories": ["ip_marker", "source_code"],
    },
]


def test_opa_runs_the_rego_tests() -> None:
    command = [opa_binary(), "test", "--ignore", "*.yaml", str(SHIPPED)]
    done = subprocess.run(command, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize("policy_input", INPUTS, ids=["clean", "mixed", "unknown-label"])
def test_opa_and_embedded_decide_alike(policy_input: dict[str, Any], tmp_path: Path) -> None:
    (tmp_path / "data.json").write_text(json.dumps({"catalog": CATALOG}))
    (tmp_path / "input.json").write_text(json.dumps(policy_input))
    command = [
        opa_binary(),
        "eval",
        "--ignore",
        "*.yaml",
        "--format",
        "json",
        "-d",
        str(SHIPPED),
        "-d",
        str(tmp_path / "data.json"),
    ]
    command += ["-i", str(tmp_path / "input.json"), "data.segmentation.decision"]
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    from_opa = json.loads(done.stdout)["result"][0]["expressions"][0]["value"]
    evaluator = EmbeddedEvaluator(load_policy_set(SHIPPED, {"catalog": CATALOG}))
    assert evaluator.evaluate(policy_input).model_dump(mode="json") == from_opa
