"""Request ids on every response, errors included, and one log line per request."""

from __future__ import annotations

import json
import re

import httpx
import pytest

from tests.conftest import Server

pytestmark = pytest.mark.slow

ULID_TEXT = re.compile(r"^[0-9A-HJKMNP-TV-Z]{26}$")


def logged(server: Server, request_id: str) -> list[dict[str, object]]:
    lines = [json.loads(line) for line in server.log_text().splitlines() if line.startswith("{")]
    return [line for line in lines if line.get("request_id") == request_id]


def test_an_unsafe_request_id_is_replaced(client: httpx.Client, server: Server) -> None:
    response = client.get("/healthz", headers={"X-Request-ID": "bad id\twith spaces"})
    assert response.status_code == 200
    request_id = response.headers["x-request-id"]
    assert ULID_TEXT.match(request_id), request_id
    assert [line["event"] for line in logged(server, request_id)] == ["http_request"]


def test_error_responses_carry_the_id_and_are_logged(client: httpx.Client, server: Server) -> None:
    missing = client.get("/no-such-route", headers={"X-Request-ID": "req-404-probe"})
    assert missing.status_code == 404
    assert missing.headers["x-request-id"] == "req-404-probe"
    unauthenticated = client.post(
        "/decide",
        json={"content": "hi"},
        headers={"X-Request-ID": "req-401-probe", "Authorization": "Bearer wrong-key-0123456789"},
    )
    assert unauthenticated.status_code == 401
    assert unauthenticated.headers["x-request-id"] == "req-401-probe"
    for request_id, status, path in (
        ("req-404-probe", 404, "/no-such-route"),
        ("req-401-probe", 401, "/decide"),
    ):
        lines = [line for line in logged(server, request_id) if line["event"] == "http_request"]
        assert len(lines) == 1
        assert (lines[0]["status"], lines[0]["path"]) == (status, path)


def test_a_wrong_path_or_method_says_what_to_use(client: httpx.Client) -> None:
    missing = client.get("/audit/nothing-here")
    assert missing.status_code == 404
    assert missing.json()["message"] == (
        "no route /audit/nothing-here; the routes are listed at /docs and /openapi.json"
    )
    wrong_method = client.get("/decide")
    assert wrong_method.status_code == 405
    assert wrong_method.headers["allow"] == "POST"
    assert wrong_method.json() == {
        "error": "http_error",
        "message": "GET is not allowed on /decide; use POST",
        "details": [],
    }
