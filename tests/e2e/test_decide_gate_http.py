"""No blind spots (issue 20): every string a request carries is scanned or said to be
unscannable, strict mode accepts the chat formats the docs list, and bad input is named
in plain words. Over HTTP, against a real service."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import GATEWAY_KEY, Server, bearer, start_server

SSN = "536-22-8190"


@pytest.mark.parametrize(
    ("message", "path"),
    [
        ({"role": "user", "name": f"SSN {SSN}", "content": "hello"}, "name"),
        (
            {"role": "assistant", "reasoning_content": f"the SSN is {SSN}", "content": "ok"},
            "reasoning_content",
        ),
        ({"role": "user", "content": "hello", "metadata": {"note": f"SSN {SSN}"}}, "metadata"),
        (
            {"role": "user", "content": [{"type": "text", "text": "hi", "note": f"SSN {SSN}"}]},
            "content.0.note",
        ),
    ],
)
def test_an_ssn_anywhere_in_a_message_keeps_it_on_prem(
    client: httpx.Client, message: dict[str, Any], path: str
) -> None:
    response = client.post(
        "/decide", json={"messages": [{"role": "system", "content": "Be brief."}, message]}
    )
    assert response.status_code == 200, response.text
    decision = response.json()
    assert decision["segment"] == "on_prem_only"
    ssn = [f for f in decision["findings"] if f["type"] == "US_SSN"]
    assert [(f["message"], f["path"]) for f in ssn] == [(1, path)]
    assert SSN not in response.text  # where it is, never what


def test_an_image_is_listed_as_unscanned_and_does_not_relax_the_segment(
    client: httpx.Client,
) -> None:
    image = {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}}
    clean = client.post(
        "/decide",
        json={
            "messages": [
                {"role": "user", "content": [{"type": "text", "text": "What is this?"}, image]}
            ]
        },
    ).json()
    assert clean["unscanned"] == [{"kind": "image", "message": 0, "path": "content.1.image_url"}]
    assert clean["segment"] == "any"
    secret = client.post(
        "/decide",
        json={
            "messages": [
                {"role": "user", "content": [{"type": "text", "text": f"SSN {SSN}"}, image]}
            ]
        },
    ).json()
    assert secret["segment"] == "on_prem_only"
    assert secret["unscanned"][0]["kind"] == "image"


def test_a_requested_endpoint_outside_the_catalog_gets_a_reason(client: httpx.Client) -> None:
    decision = client.post(
        "/decide", json={"content": "hello", "context": {"requested_endpoint": "gpt-9-ultra"}}
    ).json()
    assert decision["requested_endpoint_allowed"] is False
    unknown = next(e for e in decision["excluded_endpoints"] if e["id"] == "gpt-9-ultra")
    assert unknown["reasons"][0].startswith("not in the catalog; known: onprem-qwen3-32b")
    assert decision["recommended_endpoint"] == decision["allowed_endpoints"][0]


@pytest.mark.parametrize(
    ("body", "field", "problem"),
    [
        (
            {"content": "x", "context": {"max_output_tokens": "512"}},
            "context.max_output_tokens",
            "Input should be a valid integer",
        ),
        (
            {"content": "x", "context": None},
            "context",
            "must be an object, not null (leave the field out when there is none)",
        ),
        (
            {"messages": [{"role": "user", "content": 5}]},
            "messages.0.content",
            "must be a string or a list of content parts",
        ),
        (
            {"messages": [{"role": "user", "content": [{"text": "x"}]}]},
            "messages.0.content.0.type",
            "missing required field",
        ),
    ],
)
def test_bad_input_is_named_in_plain_words(
    client: httpx.Client, body: dict[str, Any], field: str, problem: str
) -> None:
    response = client.post("/decide", json=body)
    assert response.status_code == 422, response.text
    error = response.json()
    assert error["details"] == [{"field": field, "problem": problem}]
    assert "list[ContentPart]" not in response.text and ".str" not in response.text


def test_a_phone_number_with_phone_context_is_not_an_nhs_number(client: httpx.Client) -> None:
    decision = client.post("/decide", json={"content": "call our office at 415-555-0199"}).json()
    assert "UK_NHS" not in {f["type"] for f in decision["findings"]}
    assert decision["segment"] != "on_prem_only"


# --------------------------------------------------------------------------- strict mode


@pytest.fixture(scope="module")
def strict(tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx.Client]:
    server: Server = start_server(
        tmp_path_factory.mktemp("strict"),
        PE_STRICT_MODE="true",
        PE_DETECTION_BACKEND="patterns",
        PE_SCAN_DEADLINE_SECONDS="60",
    )
    try:
        with httpx.Client(base_url=server.url, timeout=60, headers=bearer(GATEWAY_KEY)) as http:
            yield http
    finally:
        server.stop()


#: One message of each kind the docs list, every field of the formats used once.
DOCUMENTED_CHAT: list[dict[str, Any]] = [
    {"role": "system", "content": "You are terse.", "name": "policy"},
    {"role": "user", "content": [
        {"type": "text", "text": "Look at this", "cache_control": {"type": "ephemeral"}},
        {"type": "image_url", "image_url": {"url": "https://img.example/a.png", "detail": "low"}},
        {"type": "input_audio", "input_audio": {"data": "UklGRg==", "format": "wav"}},
        {"type": "file", "file": {"file_data": "JVBERi0=", "filename": "a.pdf"}},
        {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "AA=="}},
        {"type": "document", "source": {"type": "text", "media_type": "text/plain",
                                        "data": "plain document"}, "title": "Doc"},
    ]},
    {"role": "assistant", "content": [
        {"type": "thinking", "thinking": "Let me see", "signature": "c2lnbmF0dXJl"},
        {"type": "tool_use", "id": "toolu_01", "name": "lookup", "input": {"q": "weather"}},
    ], "function_call": {"name": "legacy", "arguments": "{}"}, "refusal": None,
     "reasoning_content": "thinking out loud", "audio": {"id": "audio_1"}},
    {"role": "user", "content": [
        {"type": "tool_result", "tool_use_id": "toolu_01", "content": "sunny", "is_error": False},
    ]},
    {"role": "assistant", "content": None, "tool_calls": [
        {"id": "call_1", "type": "function", "function": {"name": "f", "arguments": "{}"}},
    ]},
    {"role": "tool", "tool_call_id": "call_1", "content": "done"},
]  # fmt: skip


def test_strict_mode_accepts_every_documented_field(strict: httpx.Client) -> None:
    response = strict.post("/decide", json={"messages": DOCUMENTED_CHAT})
    assert response.status_code == 200, response.text
    kinds = sorted(item["kind"] for item in response.json()["unscanned"])
    assert kinds == ["audio", "file", "image", "image", "signature"]


@pytest.mark.parametrize(
    ("message", "field"),
    [
        ({"role": "user", "content": "hi", "metadata": {"x": 1}}, "messages.0.metadata"),
        (
            {"role": "user", "content": [{"type": "text", "text": "hi", "note": "x"}]},
            "messages.0.content.0.note",
        ),
        (
            {"role": "user", "content": [{"type": "memo", "text": "hi"}]},
            "messages.0.content.0.type",
        ),
        (
            {"role": "assistant", "tool_calls": [{"id": "c", "function": {"name": "f", "x": 1}}]},
            "messages.0.tool_calls.0.function.x",
        ),
    ],
)
def test_strict_mode_rejects_only_what_is_truly_unknown_with_details(
    strict: httpx.Client, message: dict[str, Any], field: str
) -> None:
    response = strict.post("/decide", json={"messages": [message]})
    assert response.status_code == 422, response.text
    error = response.json()
    assert error["error"] == "unknown_field"
    assert [d["field"] for d in error["details"]] == [field]
    assert error["details"][0]["problem"].startswith("unknown field; strict mode accepts only")


def test_the_python_api_holds_the_same_strict_mode(tmp_path: Path) -> None:
    from policy_engine import Engine
    from policy_engine.errors import LimitExceeded
    from tests.conftest import in_process_settings

    settings = in_process_settings(tmp_path, strict_mode=True, detection_backend="patterns")
    with Engine.from_settings(settings) as engine:
        assert engine.decide({"messages": DOCUMENTED_CHAT}).outcome == "decided"
        with pytest.raises(LimitExceeded) as refused:
            engine.decide({"messages": [{"role": "user", "content": "hi", "metadata": {}}]})
    assert refused.value.details[0]["field"] == "messages.0.metadata"


def test_a_policy_can_keep_unscanned_images_off_public_endpoints(tmp_path: Path) -> None:
    """examples/policies/unscanned_images.rego, added to the shipped policies, as the docs
    say: an image makes the request trusted_hosted at most; text alone is left alone."""
    import shutil

    from policy_engine import Engine
    from tests.conftest import ROOT, in_process_settings, run_cli

    policies = tmp_path / "policies"
    shutil.copytree(ROOT / "policies", policies)
    for name in ("unscanned_images.rego", "unscanned_images_test.rego"):
        shutil.copy(ROOT / "examples" / "policies" / name, policies / name)
    tested = run_cli(tmp_path, "test", str(policies))
    assert tested.returncode == 0, tested.stdout + tested.stderr
    settings = in_process_settings(tmp_path, policies_dir=policies, detection_backend="patterns")
    image = {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}}
    with Engine.from_settings(settings) as engine:
        with_image = engine.decide(
            {"messages": [{"role": "user", "content": [{"type": "text", "text": "hi"}, image]}]}
        )
        text_only = engine.decide({"messages": [{"role": "user", "content": "hi"}]})
    assert with_image.segment.value == "trusted_hosted"
    assert [r.rule for r in with_image.reasons] == ["unscanned.content_stays_trusted"]
    assert text_only.segment.value == "any"
