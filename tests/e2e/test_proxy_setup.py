"""How the proxy is set up: catalog upstreams and their keys, PE_UPSTREAM_BASE_URL and
PE_UPSTREAM_API_KEY, the routing example policies (tiers from purpose and task size), and
the example rule modules passing `policy-engine test` and `lint` on the shipped set."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import openai
import pytest
import yaml

from tests.conftest import GATEWAY_KEY, ROOT, Server, run_cli, start_server
from tests.fake_openai import FakeOpenAI
from tests.proxy_support import (
    KEY_VALUE,
    SSN,
    Upstreams,
    audit_record,
    model_of,
    user,
    write_policies,
)

CLEAN = "Summarize: the meeting moved to Thursday and the budget is unchanged."


def test_an_endpoint_s_key_comes_from_the_variable_the_catalog_names(
    sdk: openai.OpenAI, fresh: Upstreams
) -> None:
    sdk.chat.completions.create(model="gpt-4o", messages=user(CLEAN))
    sdk.chat.completions.create(model="glm-4-plus-fireworks", messages=user(CLEAN))
    [keyed] = fresh.trusted_hosted.received(model_of("gpt-4o"))
    [unkeyed] = fresh.trusted_hosted.received(model_of("glm-4-plus-fireworks"))
    assert keyed.headers.get("authorization") == f"Bearer {KEY_VALUE}"
    assert "authorization" not in {k.lower() for k in unkeyed.headers}


@pytest.mark.parametrize(
    ("purpose", "endpoint"),
    [("summarization", "deepseek-v4-flash"), ("legal_review", "gpt-4o"), ("chat", None)],
)
def test_the_routing_example_chooses_the_tier_from_purpose_and_task_size(
    sdk: openai.OpenAI,
    fresh: Upstreams,
    proxy_server: Server,
    purpose: str,
    endpoint: str | None,
) -> None:
    raw = sdk.chat.completions.with_raw_response.create(
        model="auto", messages=user(CLEAN), metadata={"purpose": purpose}
    )
    decision = audit_record(proxy_server, raw.headers["x-policy-engine-decision-id"])
    expected = endpoint or decision["allowed_endpoints"][0]
    assert raw.headers["x-policy-engine-endpoint"] == expected
    tiers = [o for o in decision["obligations"] if o.startswith("tier:")]
    assert tiers == ({"deepseek-v4-flash": ["tier:practical"], "gpt-4o": ["tier:advanced"]}
                     .get(endpoint or "", []))  # fmt: skip


def test_a_big_task_is_not_routine(sdk: openai.OpenAI, proxy_server: Server) -> None:
    raw = sdk.chat.completions.with_raw_response.create(
        model="auto", messages=user(CLEAN), metadata={"purpose": "summarization"}, max_tokens=9000
    )
    decision = audit_record(proxy_server, raw.headers["x-policy-engine-decision-id"])
    assert "tier:practical" not in decision["obligations"]
    assert raw.headers["x-policy-engine-endpoint"] == decision["allowed_endpoints"][0]


@pytest.fixture(scope="module")
def one_upstream(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[FakeOpenAI, Server]]:
    """The shipped catalog and policies, every endpoint sent to one server with one key."""
    with FakeOpenAI(api_key="sk-one-server") as fake:
        server = start_server(
            tmp_path_factory.mktemp("one-upstream"),
            PE_UPSTREAM_BASE_URL=fake.url,
            PE_UPSTREAM_API_KEY="sk-one-server",
        )
        yield fake, server
        server.stop()


def test_pe_upstream_base_url_sends_every_endpoint_to_one_server(
    one_upstream: tuple[FakeOpenAI, Server],
) -> None:
    fake, server = one_upstream
    catalog = yaml.safe_load((ROOT / "examples" / "catalog.yaml").read_text())
    upstream_model = {e["id"]: e["upstream"]["model"] for e in catalog["endpoints"]}
    with openai.OpenAI(base_url=server.url + "/v1", api_key=GATEWAY_KEY, max_retries=0) as sdk:
        clean = sdk.chat.completions.with_raw_response.create(model="auto", messages=user(CLEAN))
        ssn = sdk.chat.completions.with_raw_response.create(
            model="auto", messages=user(f"Customer SSN {SSN}, please check the refund.")
        )
        listed = {model.id for model in sdk.models.list().data}
    answered = [clean.headers["x-policy-engine-endpoint"], ssn.headers["x-policy-engine-endpoint"]]
    assert answered[1] == "onprem-qwen3-32b"
    assert [r.model for r in fake.received()] == [upstream_model[e] for e in answered]
    assert {r.headers.get("authorization") for r in fake.received()} == {"Bearer sk-one-server"}
    assert listed == {"auto", *upstream_model}
    assert "sk-one-server" not in server.log_text()


def test_the_example_modules_pass_the_policy_tools_on_the_shipped_set(tmp_path: Path) -> None:
    policies = write_policies(tmp_path / "policies", "masking", "routing")
    tested = run_cli(tmp_path, "test", str(policies))
    assert tested.returncode == 0, tested.stdout + tested.stderr
    assert ", 0 failed" in tested.stdout
    assert "PASS segmentation_test.rules.masking.test_each_contact_type_found_is_masked" in (
        tested.stdout
    )
    assert "PASS segmentation_test.rules.routing.test_long_documents_need_a_long_context" in (
        tested.stdout
    )
    linted = run_cli(tmp_path, "lint", str(policies))
    assert linted.returncode == 0, linted.stdout + linted.stderr
    assert "0 errors" in linted.stdout
