"""Every part of a chat is scanned, and each text says where it came from."""

from __future__ import annotations

import base64
from typing import Any
from urllib.parse import quote

import pytest

from policy_engine.models import DecideRequest

CHAT: list[dict[str, Any]] = [
    {"role": "system", "content": "system text"},
    {
        "role": "user",
        "content": [
            {"type": "text", "text": "user text"},
            {"type": "image_url", "image_url": {"url": "https://img.example/x.png"}},
            {
                "type": "tool_result",
                "tool_use_id": "t1",
                "content": [{"type": "text", "text": "nested tool result"}],
            },
        ],
    },
    {
        "role": "assistant",
        "content": None,
        "tool_calls": [
            {"id": "c1", "type": "function", "function": {"name": "f", "arguments": '{"q": 1}'}}
        ],
    },
    {"role": "tool", "tool_call_id": "c1", "content": "tool output"},
    {
        "role": "assistant",
        "content": [{"type": "tool_use", "id": "u1", "name": "lookup", "input": {"who": "x"}}],
        "function_call": {"name": "g", "arguments": "legacy args"},
        "refusal": "refusal text",
    },
]


def test_every_part_is_a_scan_unit_with_message_and_part() -> None:
    units = DecideRequest.model_validate({"messages": CHAT}).segments_to_scan()
    free_text = [(u.message, u.part, u.path, u.text) for u in units if not u.fields]
    assert free_text == [
        (0, None, "content", "system text"),
        (1, 0, "content.0.text", "user text"),
        (1, 2, "content.2.content.0.text", "nested tool result"),
        (2, 0, "tool_calls.0.function.arguments", '{"q": 1}'),
        (3, None, "content", "tool output"),
        (4, 0, "content.0.input", '{"who": "x"}'),
        (4, 1, "function_call.arguments", "legacy args"),
        (4, 2, "refusal", "refusal text"),
    ]


def test_every_other_string_of_a_message_is_scanned_as_one_more_text() -> None:
    """Names, ids, URLs: one text per message, a line per field, each field's place known."""
    units = DecideRequest.model_validate({"messages": CHAT}).segments_to_scan()
    other = {u.message: u for u in units if u.fields}
    assert sorted(other) == [1, 2, 3, 4]
    assert other[1].text == (
        "content.1.image_url.url: https://img.example/x.png\ncontent.2.tool_use_id: t1"
    )
    assert [(f.path, f.part, other[1].text[f.start : f.end]) for f in other[1].fields] == [
        ("content.1.image_url.url", 1, "https://img.example/x.png"),
        ("content.2.tool_use_id", 2, "t1"),
    ]
    assert [other[2].text[f.start : f.end] for f in other[2].fields] == ["c1", "f"]
    assert [f.path for f in other[4].fields] == [
        "content.0.id",
        "content.0.name",
        "function_call.name",
    ]


def test_roles_and_part_types_the_format_defines_are_not_scanned() -> None:
    plain = [{"role": "user", "content": [{"type": "text", "text": "hi"}]}]
    units = DecideRequest.model_validate({"messages": plain}).segments_to_scan()
    assert [u.text for u in units] == ["hi"]
    odd = [{"role": "536-22-8190", "content": [{"type": "note-536", "text": "hi"}]}]
    units = DecideRequest.model_validate({"messages": odd}).segments_to_scan()
    assert [u.text for u in units if u.fields] == ["content.0.type: note-536\nrole: 536-22-8190"]


@pytest.mark.parametrize(
    ("message", "path"),
    [
        ({"role": "user", "name": "Jane 536-22-8190", "content": "hi"}, "name"),
        ({"role": "assistant", "reasoning_content": "ssn 536-22-8190"}, "reasoning_content"),
        ({"role": "user", "content": "hi", "metadata": {"note": "536-22-8190"}}, "metadata"),
        (
            {"role": "user", "content": [{"type": "text", "text": "hi", "note": "536-22-8190"}]},
            "content.0.note",
        ),
        (
            {"role": "user", "content": [{"type": "memo", "body": {"x": "536-22-8190"}}]},
            "content.0.body",
        ),
    ],
)
def test_strings_anywhere_are_scanned(message: dict[str, Any], path: str) -> None:
    units = DecideRequest.model_validate({"messages": [message]}).segments_to_scan()
    found = [
        (field.path, unit.text[field.start : field.end]) for unit in units for field in unit.fields
    ] + [(unit.path, unit.text) for unit in units if not unit.fields]
    assert any(where == path and "536-22-8190" in text for where, text in found), found


def test_a_field_name_the_client_chose_never_shows_in_a_path() -> None:
    message = {"role": "user", "content": "hi", "536-22-8190": "x", "Jane Doe": "y"}
    units = DecideRequest.model_validate({"messages": [message]}).segments_to_scan()
    (other,) = [u for u in units if u.fields]
    assert [f.path for f in other.fields] == ["*", "*"]
    assert "536-22-8190" in other.text  # scanned, with the value
    assert all("536" not in f.path and "Jane" not in f.path for f in other.fields)


def test_images_audio_and_files_are_listed_as_unscanned() -> None:
    chat = [
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "what is this"},
                {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}},
                {"type": "image_url", "image_url": {"url": "https://img.example/a.png"}},
                {"type": "input_audio", "input_audio": {"data": "UklGRg==", "format": "wav"}},
                {"type": "file", "file": {"file_data": "JVBERi0=", "filename": "report.pdf"}},
                {"type": "image", "source": {"type": "base64", "media_type": "image/png",
                                             "data": "iVBORw0KGgo" * 8}},
            ],
        }
    ]  # fmt: skip
    request = DecideRequest.model_validate({"messages": chat})
    assert [(u.kind, u.message, u.path) for u in request.unscanned()] == [
        ("image", 0, "content.1.image_url"),
        ("image", 0, "content.2.image_url"),
        ("audio", 0, "content.3.input_audio.data"),
        ("file", 0, "content.4.file.file_data"),
        ("image", 0, "content.5.source.data"),
    ]
    texts = " ".join(u.text for u in request.segments_to_scan())
    assert "report.pdf" in texts and "https://img.example/a.png" in texts
    assert "iVBORw0KGgo" not in texts and "UklGRg" not in texts


def test_text_sent_as_an_image_or_file_is_decoded_and_scanned() -> None:
    secret = "my SSN is 536-22-8812"
    encoded = base64.b64encode(secret.encode()).decode()
    chat = [
        {
            "role": "user",
            "content": [
                {"type": "image_url", "image_url": {"url": f"data:text/plain,{quote(secret)}"}},
                {"type": "file", "file": {"file_data": f"data:text/plain;base64,{encoded}"}},
                {"type": "document", "source": {"type": "base64", "media_type": "text/plain",
                                                "data": encoded}},
                {"type": "image", "source": {"type": "base64", "media_type": "image/png",
                                             "data": encoded}},
            ],
        }
    ]  # fmt: skip
    request = DecideRequest.model_validate({"messages": chat})
    assert [(u.path, u.text) for u in request.segments_to_scan() if u.path] == [
        ("content.0.image_url.url", secret),
        ("content.1.file.file_data", secret),
        ("content.2.source.data", secret),
    ]
    assert [(u.kind, u.path) for u in request.unscanned()] == [("image", "content.3.source.data")]


def test_a_chat_of_only_an_image_is_a_request() -> None:
    image = {"type": "image_url", "image_url": {"url": "data:image/png;base64,AA=="}}
    chat = [{"role": "user", "content": [image]}]
    request = DecideRequest.model_validate({"messages": chat})
    assert request.segments_to_scan() == []
    assert [u.kind for u in request.unscanned()] == ["image"]


def test_plain_content_is_one_unit() -> None:
    units = DecideRequest.model_validate({"content": "hello"}).segments_to_scan()
    assert [(u.message, u.part, u.text) for u in units] == [(None, None, "hello")]
