"""Helpers of the routing proxy's tests: fake upstreams on loopback (one per deployment
class, so a test can tell where a prompt went), the test catalog and policies the proxy
server runs with (fixtures in tests/e2e/conftest.py), and the audit records to check."""

from __future__ import annotations

import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import yaml

from tests.conftest import AUDITOR_KEY, ROOT, Server, bearer
from tests.fake_openai import FakeOpenAI

#: Seconds the proxy waits for an upstream in these tests (a hanging fake outlasts it).
UPSTREAM_TIMEOUT = 3.0
SSN = "536-22-8190"
CARD = "4111 1111 1111 1111"
EMAIL = "jane.doe@example.com"
#: gpt-4o's upstream key in the test catalog: read from this variable (``api_key_env``).
KEY_VARIABLE = "TEST_GPT4O_KEY"
KEY_VALUE = "sk-test-gpt4o-0123"


@dataclass
class Upstreams:
    """One fake per deployment class; every endpoint's upstream model is ``up-<id>``."""

    on_prem: FakeOpenAI
    trusted_hosted: FakeOpenAI
    public_hosted: FakeOpenAI

    def all(self) -> list[FakeOpenAI]:
        return [self.on_prem, self.trusted_hosted, self.public_hosted]

    def reset(self) -> None:
        for fake in self.all():
            fake.reset()

    def received_models(self) -> dict[str, list[str | None]]:
        return {
            name: [r.model for r in fake.received()]
            for name, fake in zip(
                ("on_prem", "trusted_hosted", "public_hosted"), self.all(), strict=True
            )
        }


def model_of(endpoint: str) -> str:
    """The upstream model name of a catalog endpoint in the test catalog."""
    return f"up-{endpoint}"


def write_test_catalog(path: Path, upstreams: Upstreams) -> Path:
    """The example catalog with each endpoint routed to the fake of its deployment class;
    deepseek-v4-pro moves to the practical tier, so that two endpoints of one vendor are
    next to each other in that tier (the fallback must prefer another vendor); gpt-4o's
    key comes from :data:`KEY_VARIABLE`."""
    catalog = yaml.safe_load((ROOT / "examples" / "catalog.yaml").read_text())
    for endpoint in catalog["endpoints"]:
        fake = getattr(upstreams, endpoint["deployment"])
        endpoint["upstream"] = {"base_url": fake.url, "model": model_of(endpoint["id"])}
        if endpoint["id"] == "deepseek-v4-pro":
            endpoint["tier"] = "practical"
        if endpoint["id"] == "gpt-4o":
            endpoint["upstream"]["api_key_env"] = KEY_VARIABLE
    path.write_text(yaml.safe_dump(catalog, sort_keys=False))
    return path


def write_policies(directory: Path, *modules: str) -> Path:
    """The shipped policies with example modules (examples/policies/<name>) added."""
    shutil.copytree(ROOT / "policies", directory)
    for name in modules:
        shutil.copytree(ROOT / "examples" / "policies" / name, directory / "rules" / name)
    return directory


def audit_record(server: Server, decision_id: str) -> dict[str, Any]:
    response = httpx.get(
        f"{server.url}/audit/decisions/{decision_id}", headers=bearer(AUDITOR_KEY), timeout=30
    )
    assert response.status_code == 200, response.text
    record: dict[str, Any] = response.json()
    return record


def delivery_of(server: Server, decision_id: str, wait: float = 10.0) -> dict[str, Any]:
    """The delivery record of a decision (appended just after the answer: waited for)."""
    deadline = time.monotonic() + wait
    while True:
        response = httpx.get(
            f"{server.url}/audit/decisions",
            params={"kind": "delivery", "limit": 1000},
            headers=bearer(AUDITOR_KEY),
            timeout=30,
        )
        assert response.status_code == 200, response.text
        found = [r for r in response.json()["decisions"] if r["delivers"] == decision_id]
        if found:
            return found[0]
        if time.monotonic() > deadline:
            raise AssertionError(f"no delivery record for decision {decision_id}")
        time.sleep(0.05)


def user(text: str) -> list[dict[str, Any]]:
    return [{"role": "user", "content": text}]
