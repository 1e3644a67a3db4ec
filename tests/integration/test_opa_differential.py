"""Differential test: on 1,000+ generated inputs (seeded random findings, contexts, catalogs and
YAML policies), the embedded evaluator and a real OPA server (the ``opa`` evaluator) return
identical decisions. One OPA server for the module; each catalog is one push."""

from __future__ import annotations

import random
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from policy_engine.policy import EmbeddedEvaluator, load_policy_set
from policy_engine.policy.opa import OpaEvaluator
from tests.opa_server import OpaServer, start_opa

ROOT = Path(__file__).resolve().parents[2]
SEED = 20261124
CATALOGS = 20
INPUTS_PER_CATALOG = 55

ENTITY_TYPES = [
    ("US_SSN", "pii"),
    ("CREDIT_CARD", "pii"),
    ("IBAN_CODE", "pii"),
    ("PERSON", "pii"),
    ("EMAIL_ADDRESS", "pii"),
    ("PHONE_NUMBER", "pii"),
    ("LOCATION", "pii"),
    ("DATE_TIME", "pii"),
    ("AWS_ACCESS_KEY", "secret"),
    ("PRIVATE_KEY", "secret"),
    ("CODENAME", "ip_marker"),
    ("CLASSIFICATION_MARKING", "ip_marker"),
    ("SOURCE_CODE", "source_code"),
]
CONTEXT_VALUES = {
    "tenant": ["acme", "globex", "initech"],
    "application": ["hr-assistant", "payroll", "support-bot", "wiki"],
    "purpose": ["analytics", "summarization", "translation"],
    "declared_classification": [
        "public",
        "internal",
        " Internal ",
        "confidential",
        "restricted",
        "secret",
        "eyes only",
    ],
}
VENDORS = ["self", "OpenAI", "Together AI", "DeepSeek", "Acme AI", "Fireworks AI", "Zhipu AI"]
DEPLOYMENTS = ["on_prem", "trusted_hosted", "public_hosted"]


def random_catalog(rng: random.Random) -> dict[str, Any]:
    endpoints = []
    for index in range(rng.randint(2, 8)):
        deployment = rng.choice(DEPLOYMENTS + ["edge"] * (rng.random() < 0.05))
        endpoint: dict[str, Any] = {
            "id": f"ep-{index}",
            "deployment": deployment,
            "vendor": rng.choice(VENDORS),
        }
        if rng.random() < 0.8:
            endpoint["jurisdiction"] = rng.choice(["EU", "US", "CN", "UK"])
        provenance: dict[str, Any] = {}
        if rng.random() < 0.6:
            provenance["weights_sha256"] = rng.choice(["a" * 64, "b" * 63, "A" * 64])
        if rng.random() < 0.6:
            provenance["weights_source"] = rng.choice(
                ["huggingface.co/Qwen/Qwen3-32B", "http://example.invalid/w", "internal"]
            )
        for key in ("dpa", "zero_data_retention"):
            if rng.random() < 0.7:
                provenance[key] = rng.random() < 0.6
        if provenance or rng.random() < 0.5:
            endpoint["provenance"] = provenance
        endpoints.append(endpoint)
    return {"endpoints": endpoints}


def random_input(rng: random.Random) -> dict[str, Any]:
    findings = []
    for entity_type, category in rng.sample(ENTITY_TYPES, rng.randint(0, 4)):
        findings.append(
            {
                "type": entity_type,
                "category": category,
                "count": rng.choice([1, 1, 2, 3, 12, 25]),
                "max_score": round(rng.random(), 2),
                "detector": "generated",
            }
        )
    context = {
        key: rng.choice(values) for key, values in CONTEXT_VALUES.items() if rng.random() < 0.5
    }
    characters = rng.randint(0, 20000)
    return {
        "context": context,
        "findings": findings,
        "entity_types": sorted({f["type"] for f in findings}),
        "categories": sorted({f["category"] for f in findings}),
        "content": {"characters": characters, "estimated_tokens": (characters + 3) // 4},
    }


def random_yaml_policy(rng: random.Random) -> dict[str, Any]:
    rules = []
    for index in range(rng.randint(1, 4)):
        when: dict[str, Any] = {}
        if rng.random() < 0.5:
            when["entity_types"] = [t for t, _ in rng.sample(ENTITY_TYPES, rng.randint(1, 3))]
        if rng.random() < 0.4:
            when["categories"] = rng.sample(["pii", "secret", "ip_marker", "source_code"], 2)
        if rng.random() < 0.3:
            when["min_score"] = round(rng.random(), 2)
        if rng.random() < 0.3:
            when["min_count"] = rng.randint(1, 20)
        if rng.random() < 0.5:
            key = rng.choice(list(CONTEXT_VALUES))
            when["context"] = {key: rng.sample(CONTEXT_VALUES[key], 2)}
        rule: dict[str, Any] = {"id": f"generated.rule_{index}", "message": f"rule {index}"}
        if when:
            rule["when"] = when
        effects = rng.sample(["segment", "exclude", "obligations"], rng.randint(1, 3))
        if "segment" in effects:
            rule["segment"] = rng.choice(["any", "trusted_hosted", "on_prem_only"])
        if "exclude" in effects:
            match: dict[str, Any] = {}
            if rng.random() < 0.5:
                match["jurisdiction"] = rng.sample(["CN", "US", None], 2)
            if rng.random() < 0.5:
                match["vendor"] = rng.sample(VENDORS, 2)
            if rng.random() < 0.4 or not match:
                match["provenance"] = {"dpa": rng.sample([True, False, None], 2)}
            rule["exclude_endpoints"] = match
        if "obligations" in effects:
            rule["obligations"] = [f"redact:{rng.choice(ENTITY_TYPES)[0]}"]
        rules.append(rule)
    return {"version": 1, "name": "generated", "rules": rules}


@pytest.fixture(scope="module")
def opa(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OpaServer]:
    server = start_opa(tmp_path_factory.mktemp("opa"))
    yield server
    server.stop()


def test_embedded_and_opa_decide_identically(opa: OpaServer, tmp_path: Path) -> None:
    rng = random.Random(SEED)
    policies = tmp_path / "policies"
    shutil.copytree(ROOT / "policies", policies)
    compared = 0
    segments: set[str] = set()
    seen = {"generated_reason": 0, "generated_exclusion": 0, "obligation": 0, "invalid": 0}
    mismatches: list[str] = []
    for round_ in range(CATALOGS):
        catalog = random_catalog(rng)
        (policies / "generated.yaml").write_text(yaml.safe_dump(random_yaml_policy(rng)))
        policy_set = load_policy_set(policies, {"catalog": catalog})
        embedded = EmbeddedEvaluator(policy_set)
        remote = OpaEvaluator(policy_set, opa.url, timeout=10)
        for _ in range(INPUTS_PER_CATALOG):
            policy_input = random_input(rng)
            local = embedded.evaluate(policy_input).model_dump(mode="json")
            served = remote.evaluate(policy_input).model_dump(mode="json")
            compared += 1
            segments.add(local["segment"])
            rules = {r["rule"] for r in local["reasons"]}
            seen["generated_reason"] += any(r.startswith("generated.") for r in rules)
            seen["generated_exclusion"] += any(
                x["rule"].startswith("generated.") for x in local["excluded"]
            )
            seen["obligation"] += bool(local["obligations"])
            seen["invalid"] += "segmentation.invalid_contribution" in rules
            if local != served and len(mismatches) < 3:
                mismatches.append(f"round {round_}: {policy_input} -> {local} vs {served}")
    assert not mismatches, "\n".join(mismatches)
    assert compared >= 1000
    assert segments == {"any", "trusted_hosted", "on_prem_only"}
    # the generated YAML rules fire, exclude and oblige often enough to be compared
    assert min(seen["generated_reason"], seen["generated_exclusion"], seen["obligation"]) > 50
    assert seen["invalid"] == 0
