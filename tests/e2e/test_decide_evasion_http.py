"""Disguised and encoded values in every part of a chat, over HTTP, down to the audit log."""

from __future__ import annotations

import base64
import json
import sqlite3

import httpx

from tests.conftest import Server

AWS_KEY = "AKIAZ7QW3RT5LM2XNB4Y"
CARD = "4111111111111111"


def test_base64_secret_in_a_tool_result_is_found_and_located(
    client: httpx.Client, server: Server
) -> None:
    payload = base64.b64encode(f"aws_access_key_id = {AWS_KEY}".encode()).decode()
    tool_result = f'{{"config": "{payload}"}}'
    body = {
        "messages": [
            {"role": "system", "content": "You are a helpful assistant."},
            {"role": "user", "content": "Read the config and summarize it."},
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {
                        "id": "c1",
                        "type": "function",
                        "function": {"name": "read", "arguments": "{}"},
                    }
                ],
            },
            {"role": "tool", "tool_call_id": "c1", "content": tool_result},
        ]
    }
    response = client.post("/decide", json=body)
    assert response.status_code == 200, response.text
    decision = response.json()
    assert decision["segment"] == "on_prem_only"
    secret = next(f for f in decision["findings"] if f["type"] == "AWS_ACCESS_KEY")
    assert secret["message"] == 3
    assert secret["encoded"] == "base64"
    start, end = secret["spans"][0]
    assert tool_result[start:end] == payload
    assert AWS_KEY not in response.text and payload not in response.text

    row = (
        sqlite3.connect(server.db_path)
        .execute("SELECT record FROM decisions WHERE decision_id = ?", (decision["decision_id"],))
        .fetchone()
    )
    audited = next(f for f in json.loads(row[0])["findings"] if f["type"] == "AWS_ACCESS_KEY")
    assert audited["encoded"] == "base64"
    assert audited["message"] == 3


def test_disguised_card_in_a_content_part_is_found(client: httpx.Client) -> None:
    disguised = "4\u200b111 1111-1111 11\uff111"  # zero-width space, full-width 1
    body = {
        "messages": [
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "Hello"},
                    {"type": "text", "text": f"my card: {disguised}"},
                ],
            }
        ]
    }
    decision = client.post("/decide", json=body).json()
    card = next(f for f in decision["findings"] if f["type"] == "CREDIT_CARD")
    assert (card["message"], card["part"]) == (0, 1)
    start, end = card["spans"][0]
    assert f"my card: {disguised}"[start:end] == disguised
    assert card["encoded"] is None
    assert decision["segment"] == "on_prem_only"


def test_an_ssn_written_with_json_escapes_in_tool_call_arguments_is_found(
    client: httpx.Client,
) -> None:
    # The client wrote the arguments with \u escapes (as a JSON encoder may): the raw
    # arguments string holds backslashes, never the digits joined by dashes.
    arguments = json.dumps({"ssn": "536\u002d22\u002d8190"}).replace("-", "\\u002d")
    assert "536-22" not in arguments
    body = {
        "messages": [
            {"role": "user", "content": "File the form."},
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {
                        "id": "c1",
                        "type": "function",
                        "function": {"name": "file_form", "arguments": arguments},
                    }
                ],
            },
        ]
    }
    response = client.post("/decide", json=body)
    assert response.status_code == 200, response.text
    decision = response.json()
    assert decision["segment"] == "on_prem_only"
    ssn = next(f for f in decision["findings"] if f["type"] == "US_SSN")
    assert ssn["message"] == 1
    assert "8190" not in response.text
