"""What a chat message holds, as this engine reads it: every string is scanned, or said to be
unscannable; nothing a client sends is silently ignored.

The formats are OpenAI's chat messages (with DeepSeek's ``reasoning_content``) and
Anthropic's content blocks (:data:`MESSAGE_FIELDS`, :data:`PART_FIELDS`). A message's
strings are of three kinds:

* free text (``content``, a text part's ``text``, tool-call ``arguments``, a tool use's
  ``input``, a tool result's nested content, ``refusal``, ``reasoning_content``, a
  thinking block): each is a text of its own, scanned as it is;
* every other string (``name``, ids, URLs, file names, titles, and every field or part
  type these tables do not know, with its whole value): gathered into one more text per
  message, a line ``path: value`` each, so that detectors see the field's name as context
  and a chat of ordinary messages costs no extra scan;
* opaque data (an image, audio, a file or a document sent as base64, a thinking block's
  signature, redacted thinking): it cannot be scanned, and is listed as
  :class:`Unscanned` with its kind, so that a policy can decide what to do about it.

Only structural fields that hold a value the format defines (``role: "user"``,
``type: "text"``, ``detail: "auto"`` …) are not scanned: they carry nothing. Any other
value in them is scanned like every other string.

Findings name the ``message``, the ``part`` (content parts by index; tool calls numbered
after them, then ``function_call``, ``refusal`` and ``reasoning_content``) and the
``path`` of the field, e.g. ``content.1.image_url.url``. A field name the client chose
(an unknown field, a key inside one) appears in a path only when it is a plain lower-case
name, otherwise as ``*``: a key can carry a value, a path never does.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

#: How a field's value is read: ``text`` (free text; an object as its JSON), ``field`` (a
#: line of the message's other text), ``parts`` (content: text or a list of parts),
#: ``image_url``, ``source:KIND``, ``opaque:KIND`` (cannot be scanned), a nested table,
#: or a frozenset: a structural field whose listed values are not scanned.
Reading = str | frozenset[str] | Mapping[str, Any]

ROLES = frozenset({"system", "developer", "user", "assistant", "tool", "function"})
_CACHE_CONTROL: dict[str, Reading] = {
    "type": frozenset({"ephemeral"}),
    "ttl": frozenset({"5m", "1h"}),
}


#: An Anthropic ``source`` of an image or a document (its ``data`` is read by its ``type``:
#: plain text is scanned, base64 is not).
_SOURCE: dict[str, Reading] = {
    "type": frozenset({"base64", "url", "text", "content", "file"}),
    "media_type": "field",
    "data": "text",
    "url": "field",
    "file_id": "field",
    "content": "parts",
}


_FUNCTION: dict[str, Reading] = {"name": "field", "arguments": "text"}

#: The fields of a message (besides ``content``, ``tool_calls``, ``function_call``,
#: ``refusal`` and ``reasoning_content``, which :func:`read_message` reads in order).
MESSAGE_FIELDS: dict[str, Reading] = {
    "role": ROLES,
    "content": "parts",
    "name": "field",
    "tool_calls": "tool_calls",
    "tool_call_id": "field",
    "function_call": _FUNCTION,
    "refusal": "text",
    "reasoning_content": "text",
    "audio": {"id": "field"},
}

#: The fields of each kind of content part, OpenAI's and Anthropic's (without ``type``).
PART_FIELDS: dict[str, dict[str, Reading]] = {
    "text": {"text": "text", "cache_control": _CACHE_CONTROL, "citations": "field"},
    "image_url": {"image_url": {"url": "image_url", "detail": frozenset({"auto", "low", "high"})}},
    "input_audio": {"input_audio": {"data": "opaque:audio", "format": frozenset({"wav", "mp3"})}},
    "file": {"file": {"file_id": "field", "file_data": "opaque:file", "filename": "field"}},
    "refusal": {"refusal": "text"},
    "image": {"source": "source:image", "cache_control": _CACHE_CONTROL},
    "document": {
        "source": "source:document",
        "title": "field",
        "context": "text",
        "citations": "field",
        "cache_control": _CACHE_CONTROL,
    },
    "tool_use": {"id": "field", "name": "field", "input": "text", "cache_control": _CACHE_CONTROL},
    "tool_result": {
        "tool_use_id": "field",
        "content": "parts",
        "is_error": frozenset(),
        "cache_control": _CACHE_CONTROL,
    },
    "thinking": {"thinking": "text", "signature": "opaque:signature"},
    "redacted_thinking": {"data": "opaque:redacted_thinking"},
}
#: A part of a kind the tables do not know: these fields are free text (everything else
#: of it, its ``type`` included, is a ``field``).
_UNKNOWN_PART: dict[str, Reading] = {
    "text": "text",
    "content": "parts",
    "input": "text",
    "arguments": "text",
}
_TOOL_CALL: dict[str, Reading] = {
    "id": "field",
    "type": frozenset({"function"}),
    "function": _FUNCTION,
}

_PLAIN_NAME = re.compile(r"^[a-z][a-z_]{0,39}$")
_BASE64 = re.compile(r"[A-Za-z0-9+/=\r\n]+")


@dataclass(frozen=True)
class Unscanned:
    """Content that cannot be scanned: its kind (``image``, ``audio``, ``file``,
    ``document``, ``signature``, ``redacted_thinking``) and the path of the field."""

    kind: str
    path: str


@dataclass(frozen=True)
class FieldText:
    """Where one field's value sits in a message's other text: ``[start, end)``."""

    start: int
    end: int
    path: str
    part: int | None


@dataclass
class MessageTexts:
    """What one message gives to scan."""

    #: Free texts: (part index or None, path, text).
    texts: list[tuple[int | None, str, str]] = field(default_factory=list)
    #: The other strings, one line ``path: value`` each, and where each value sits.
    other: str = ""
    fields: list[FieldText] = field(default_factory=list)
    unscanned: list[Unscanned] = field(default_factory=list)

    def characters(self) -> int:
        """How many characters of text the message holds (field values, not their names)."""
        return sum(len(text) for _, _, text in self.texts) + sum(
            f.end - f.start for f in self.fields
        )


def shown_name(key: Any) -> str:
    """A client-chosen field name as a path shows it: a plain lower-case name as it is,
    any other as ``*`` (it could carry a value)."""
    return key if isinstance(key, str) and _PLAIN_NAME.match(key) else "*"


def _join(path: str, key: str | int) -> str:
    return f"{path}.{key}" if path else str(key)


def scanned_text(value: Any) -> str:
    """The text scanned for a field's value: a string as it is, anything else as its JSON
    (finding offsets in such a field count in this text; the proxy's masking relies on it)."""
    return (
        value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, sort_keys=True)
    )


class _Reader:
    """Reads one message into a :class:`MessageTexts`."""

    def __init__(self) -> None:
        self.out = MessageTexts()
        self._lines: list[str] = []
        self._length = 0

    def finish(self) -> MessageTexts:
        self.out.other = "\n".join(self._lines)
        return self.out

    def text(self, part: int | None, path: str, value: Any) -> bool:
        """Free text (an object: its JSON); whether there was any."""
        if value is None or value == "" or isinstance(value, bool):
            return False
        self.out.texts.append((part, path, scanned_text(value)))
        return True

    def field(self, part: int | None, path: str, value: Any) -> None:
        """A line ``path: value`` of the other text (an object: its JSON)."""
        if value is None or value == "" or isinstance(value, bool):
            return
        text = scanned_text(value)
        prefix = f"{path}: "
        start = self._length + len(prefix)
        self._lines.append(prefix + text)
        self._length = start + len(text) + 1  # the newline after it
        self.out.fields.append(FieldText(start, start + len(text), path, part))

    def fields_of(
        self, value: Mapping[str, Any], table: Mapping[str, Reading], path: str, part: int | None
    ) -> None:
        for key, item in value.items():
            reading = table.get(key)
            if reading is not None:
                self.read(reading, item, _join(path, key), part)
            elif shown_name(key) == key:
                self.field(part, _join(path, key), item)
            else:  # the name is scanned too, with the value, but never shown in a path
                self.field(part, _join(path, "*"), {key: item})

    def read(self, reading: Reading, value: Any, path: str, part: int | None) -> None:
        if isinstance(reading, frozenset):
            if not (isinstance(value, str) and value in reading):
                self.field(part, path, value)
        elif isinstance(reading, Mapping):
            if isinstance(value, Mapping):
                self.fields_of(value, reading, path, part)
            else:
                self.field(part, path, value)
        elif reading == "text":
            self.text(part, path, value)
        elif reading == "field":
            self.field(part, path, value)
        elif reading == "parts":
            self.parts(value, path, part)
        elif reading == "image_url":
            self.image_url(value, path, part)
        elif reading.startswith("source:"):
            self.source(reading.removeprefix("source:"), value, path, part)
        elif reading.startswith("opaque:"):
            decoded = data_url_text(value)
            if decoded is not None:
                self.text(part, path, decoded)
            elif value:
                self.out.unscanned.append(Unscanned(reading.removeprefix("opaque:"), path))
        else:  # pragma: no cover - the tables use only the readings above
            raise ValueError(f"unknown reading {reading!r}")

    def parts(self, value: Any, path: str, part: int | None) -> None:
        """Content: free text, or a list of parts. The parts of a message's own content
        number the findings' ``part``; parts nested in a tool result keep their parent's."""
        if not isinstance(value, list):
            self.text(part, path, value)
            return
        for index, item in enumerate(value):
            where = _join(path, index)
            number = index if path == "content" else part
            if not isinstance(item, Mapping):
                self.text(number, where, item)
                continue
            kind = item.get("type")
            table = PART_FIELDS.get(kind) if isinstance(kind, str) else None
            rest = {key: value for key, value in item.items() if key != "type"}
            if table is None:
                self.field(number, _join(where, "type"), kind)
                table = _UNKNOWN_PART
            self.fields_of(rest, table, where, number)

    def tool_calls(self, value: Any, first_part: int) -> int:
        """Tool calls, numbered from ``first_part``; how many there were."""
        if not isinstance(value, list):
            self.field(first_part, "tool_calls", value)
            return 0
        for index, call in enumerate(value):
            where = _join("tool_calls", index)
            if isinstance(call, Mapping):
                self.fields_of(call, _TOOL_CALL, where, first_part + index)
            else:
                self.field(first_part + index, where, call)
        return len(value)

    def image_url(self, value: Any, path: str, part: int | None) -> None:
        """An image's URL: a ``data:`` URL is the image itself (unscanned); any other URL
        is scanned as text, and the image it points to is not (it is never fetched)."""
        image = path.rsplit(".", 1)[0]
        decoded = data_url_text(value)
        if decoded is not None:  # text given as an image: read, not an image
            self.text(part, path, decoded)
            return
        if isinstance(value, str) and value.startswith("data:"):
            self.out.unscanned.append(Unscanned(_data_kind(value), image))
            return
        self.field(part, path, value)
        if value:
            self.out.unscanned.append(Unscanned("image", image))

    def source(self, kind: str, value: Any, path: str, part: int | None) -> None:
        """An Anthropic source: base64 ``data`` is the image or document itself (unscanned);
        plain text ``data``, a URL and nested content are scanned."""
        if not isinstance(value, Mapping):
            self.field(part, path, value)
            return
        rest = dict(value)
        data = rest.get("data")
        encoded_text = rest.get("type") == "base64" and _is_text(rest.get("media_type"))
        text = _base64_text(data) if encoded_text else None
        if text is not None:  # text sent base64-encoded: read
            del rest["data"]
            self.text(part, _join(path, "data"), text)
        elif data and (rest.get("type") == "base64" or _looks_base64(data)):
            del rest["data"]
            self.out.unscanned.append(Unscanned(kind, _join(path, "data")))
        self.fields_of(rest, _SOURCE, path, part)


def data_url_text(value: Any) -> str | None:
    """The text a ``data:`` URL of a text media type (``text/*``, JSON, XML) holds,
    decoded; None for any other value (an image's data, say, stays unscanned)."""
    if not isinstance(value, str) or not value.startswith("data:") or "," not in value:
        return None
    header, _, data = value[5:].partition(",")
    media, *flags = header.split(";")
    if not _is_text(media or "text/plain"):
        return None
    if "base64" in flags:
        return _base64_text(data)
    return urllib.parse.unquote(data)


def _is_text(media: Any) -> bool:
    media = media.strip().lower() if isinstance(media, str) else ""
    return media.startswith("text/") or media in _TEXT_MEDIA


_TEXT_MEDIA = frozenset({"application/json", "application/xml", "application/x-yaml"})


def _base64_text(data: Any) -> str | None:
    """``data`` decoded from base64 as UTF-8 text (undecodable bytes replaced); None when
    it is not base64."""
    if not isinstance(data, str):
        return None
    try:
        raw = base64.b64decode(data.strip(), validate=False)
    except (ValueError, binascii.Error):
        return None
    return raw.decode("utf-8", errors="replace")


def _data_kind(url: str) -> str:
    media = url[5:].split(";", 1)[0].split("/", 1)[0]
    return media if media in ("image", "audio") else "file"


def _looks_base64(value: Any) -> bool:
    """A long run of base64 characters: encoded data, not text."""
    return (
        isinstance(value, str) and len(value) >= 64 and _BASE64.fullmatch(value[:4096]) is not None
    )


#: Fields read before the others, in this order, each numbered as the next part.
_NUMBERED = ("function_call", "refusal", "reasoning_content")


def read_message(message: Mapping[str, Any]) -> MessageTexts:
    """Every string of ``message`` (JSON data), read as this module's docstring says."""
    reader = _Reader()
    content = message.get("content")
    if "content" in message:
        reader.parts(content, "content", None)
    next_part = len(content) if isinstance(content, list) else 0
    if "tool_calls" in message:
        next_part += reader.tool_calls(message["tool_calls"], next_part)
    for key in _NUMBERED:
        if key not in message:
            continue
        before = len(reader.out.texts)
        reader.read(MESSAGE_FIELDS[key], message[key], key, next_part)
        if len(reader.out.texts) > before:
            next_part += 1
    done = {"content", "tool_calls", *_NUMBERED}
    reader.fields_of(
        {key: value for key, value in message.items() if key not in done},
        MESSAGE_FIELDS,
        "",
        None,
    )
    return reader.finish()


def fields_text(fields: Mapping[str, Any]) -> str:
    """``fields`` (a request's fields beside its messages: tools, response_format …) as
    one text to scan: a line ``path: value`` each, as a message's other fields are read
    (an object's value as its JSON)."""
    reader = _Reader()
    reader.fields_of(fields, {}, "", None)
    return reader.finish().other


def message_strings(message: Mapping[str, Any]) -> list[str]:
    """Every string of ``message`` that is scanned: its free texts and its other fields'
    values (:func:`read_message`)."""
    read = read_message(message)
    return [text for _, _, text in read.texts] + [read.other[f.start : f.end] for f in read.fields]


def carries_content(message: Mapping[str, Any]) -> bool:
    """Whether ``message`` holds anything to decide on: a non-blank string that is scanned,
    or content that cannot be (an image ...)."""
    read = read_message(message)
    return bool(read.unscanned) or any(text.strip() for text in message_strings(message))


def unknown_fields(message: Mapping[str, Any]) -> list[tuple[str, list[str]]]:
    """The fields of ``message`` these tables do not define, for strict mode: each as
    ``(path, the fields defined there)``. An unknown part type is reported at its ``type``."""
    found: list[tuple[str, list[str]]] = []
    _unknown_in(message, MESSAGE_FIELDS, "", found)
    return found


def _unknown_in(
    value: Mapping[str, Any],
    table: Mapping[str, Reading],
    path: str,
    found: list[tuple[str, list[str]]],
) -> None:
    for key, item in value.items():
        reading = table.get(key)
        where = _join(path, key if reading is not None else shown_name(key))
        if reading is None:
            found.append((where, sorted(table)))
        elif isinstance(reading, Mapping) and isinstance(item, Mapping):
            _unknown_in(item, reading, where, found)
        elif (
            isinstance(reading, str) and reading.startswith("source:") and isinstance(item, Mapping)
        ):
            _unknown_in(item, _SOURCE, where, found)
        elif reading in ("parts", "tool_calls") and isinstance(item, list):
            for index, element in enumerate(item):
                if isinstance(element, Mapping):
                    _unknown_part(element, reading, _join(where, index), found)


def _unknown_part(
    element: Mapping[str, Any], reading: str, path: str, found: list[tuple[str, list[str]]]
) -> None:
    if reading == "tool_calls":
        _unknown_in(element, _TOOL_CALL, path, found)
        return
    kind = element.get("type")
    table = PART_FIELDS.get(kind) if isinstance(kind, str) else None
    if table is None:
        found.append((_join(path, "type"), sorted(PART_FIELDS)))
        return
    _unknown_in({k: v for k, v in element.items() if k != "type"}, table, path, found)
