"""The fake OpenAI-compatible upstream the enforcement tests use behaves like one: the
official SDK talks to it, streaming included, and it records what reached it."""

from __future__ import annotations

import httpx
import pytest

from tests.fake_openai import CHUNK_CHARACTERS, FakeOpenAI


def test_answers_a_chat_and_records_it() -> None:
    with FakeOpenAI(models=["m1"]) as fake:
        response = httpx.post(
            fake.url + "/chat/completions",
            json={"model": "m1", "messages": [{"role": "user", "content": "hello there"}]},
        )
        assert response.status_code == 200
        body = response.json()
        assert body["choices"][0]["message"]["content"] == "echo: hello there"
        assert body["usage"]["prompt_tokens"] >= 1
        assert [r.model for r in fake.received()] == ["m1"]
        assert fake.received("m1")[0].texts() == ["hello there"]
        assert httpx.get(fake.url + "/models").json()["data"][0]["id"] == "m1"


def test_streams_server_sent_events_chunk_by_chunk() -> None:
    with FakeOpenAI() as fake:
        text = "stream me please"
        with httpx.stream(
            "POST",
            fake.url + "/chat/completions",
            json={
                "model": "m",
                "stream": True,
                "stream_options": {"include_usage": True},
                "messages": [{"role": "user", "content": text}],
            },
        ) as response:
            assert response.headers["content-type"] == "text/event-stream"
            events = [line for line in response.iter_lines() if line.startswith("data: ")]
    assert events[-1] == "data: [DONE]"
    pieces = [e for e in events if '"content": "' in e and '"content": ""' not in e]
    assert len(pieces) == -(-len("echo: " + text) // CHUNK_CHARACTERS)
    assert '"usage"' in events[-2]


@pytest.mark.parametrize("status", [429, 500])
def test_a_model_can_be_told_to_fail(status: int) -> None:
    with FakeOpenAI() as fake:
        fake.fail("bad", status)
        failed = httpx.post(fake.url + "/chat/completions", json={"model": "bad", "messages": []})
        fine = httpx.post(fake.url + "/chat/completions", json={"model": "good", "messages": []})
    assert failed.status_code == status
    assert fine.status_code == 200


def test_a_model_can_hang_past_the_client_timeout() -> None:
    with FakeOpenAI() as fake:
        fake.hang("slow", 2.0)
        with pytest.raises(httpx.ReadTimeout):
            httpx.post(
                fake.url + "/chat/completions", json={"model": "slow", "messages": []}, timeout=0.3
            )


def test_an_api_key_is_checked_when_set() -> None:
    with FakeOpenAI(api_key="sk-upstream") as fake:
        url = fake.url + "/chat/completions"
        body = {"model": "m", "messages": []}
        assert httpx.post(url, json=body).status_code == 401
        ok = httpx.post(url, json=body, headers={"Authorization": "Bearer sk-upstream"})
        assert ok.status_code == 200
