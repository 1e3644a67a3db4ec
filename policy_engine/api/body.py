"""Reading a JSON request body within limits: content type, size (chunked uploads too),
UTF-8, JSON, an object at the top. Each problem is a :class:`BodyError` with its status and
code, answered like every other request error (:mod:`policy_engine.api.errors`)."""

from __future__ import annotations

import json
from typing import Any

from fastapi import Request

from policy_engine.errors import RequestError


class BodyError(RequestError):
    """The body cannot be read as a JSON object within the limits."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code


async def read_json_object(request: Request, limit: int) -> dict[str, Any]:
    """The body as a JSON object, read up to ``limit`` bytes."""
    content_type = request.headers.get("content-type", "")
    media_type = content_type.split(";", 1)[0].strip().lower()
    if media_type != "application/json":
        shown = media_type or "none"
        raise BodyError(415, "unsupported_media_type", f"send application/json (got {shown})")
    length = request.headers.get("content-length")
    if length is not None:
        if not length.isdigit():
            raise BodyError(400, "bad_content_length", "Content-Length is not a number")
        if int(length) > limit:
            raise BodyError(413, "body_too_large", f"the body exceeds {limit} bytes")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BodyError(413, "body_too_large", f"the body exceeds {limit} bytes")
        chunks.append(chunk)
    return parse_json_object(b"".join(chunks))


def parse_json_object(body: bytes) -> dict[str, Any]:
    """``body`` as a JSON object (:class:`BodyError` when it is not one)."""
    if not body.strip():
        raise BodyError(400, "empty_body", "the body is empty; send a JSON object")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BodyError(
            400, "invalid_utf8", f"the body is not valid UTF-8 (byte {exc.start})"
        ) from None
    try:
        parsed = json.loads(text)
    except RecursionError:
        raise BodyError(400, "nesting_too_deep", "the body nests too deeply to parse") from None
    except json.JSONDecodeError as exc:
        raise BodyError(
            400,
            "invalid_json",
            f"the body is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}",
        ) from None
    if not isinstance(parsed, dict):
        raise BodyError(422, "invalid_request", "the body must be a JSON object")
    return parsed
