"""``redact:TYPE`` obligations as reversible masking.

Before a request leaves, every value of a redacted type that detection found is replaced by
a placeholder ``<TYPE_digest>``, where the digest is an HMAC of the type and the value under
a key that never leaves the process: the conversation's key (derived from a secret made at
start-up and the conversation id, so the same value gets the same placeholder in every turn
of a conversation served by this process) or, without a conversation, a key made for the
request. Other occurrences of a masked value in the forwarded texts are replaced too, and a
request in which a masked value would still leave (it sits where the proxy cannot rewrite
it) is refused. The placeholder-to-value map lives only in the request's memory; answers
have their placeholders restored before the client sees them.
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
import os
import re
from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import Any

from policy_engine.chat import scanned_text
from policy_engine.records import AuditedFinding

#: Obligations that ask for masking: ``redact:EMAIL_ADDRESS`` ...
REDACT = "redact:"


class MaskingError(Exception):
    """A value to mask sits where the proxy cannot rewrite it (the request is refused)."""


def redacted_types(obligations: Iterable[str]) -> set[str]:
    return {o.removeprefix(REDACT) for o in obligations if o.startswith(REDACT)}


def conversation_key(secret: bytes, conversation: str | None) -> bytes:
    """The placeholder key of a conversation; a fresh random one without a conversation."""
    if conversation is None:
        return os.urandom(32)
    return hmac.new(secret, b"conversation\x00" + conversation.encode(), hashlib.sha256).digest()


class Masking:
    """One request's placeholders and the values they stand for (in memory only)."""

    def __init__(self, key: bytes) -> None:
        self._key = key
        self.values: dict[str, str] = {}
        self._placeholders: dict[tuple[str, str], str] = {}
        self.types: set[str] = set()
        self._pattern: re.Pattern[str] | None = None

    def placeholder(self, entity_type: str, value: str) -> str:
        known = self._placeholders.get((entity_type, value))
        if known is not None:
            return known
        digest = hmac.new(
            self._key, f"{entity_type}\x1f{value}".encode(), hashlib.sha256
        ).hexdigest()
        name = f"<{entity_type}_{digest[:8]}>"
        if self.values.get(name, value) != value:  # two values, one short digest: longer
            name = f"<{entity_type}_{digest[:20]}>"
        self._placeholders[(entity_type, value)] = name
        self.values[name] = value
        self.types.add(entity_type)
        self._pattern = None
        return name

    def restore(self, text: str) -> str:
        """``text`` with every placeholder of this request replaced by its value."""
        if not self.values or "<" not in text:
            return text
        if self._pattern is None:
            names = sorted(self.values, key=len, reverse=True)
            self._pattern = re.compile("|".join(re.escape(name) for name in names))
        return self._pattern.sub(lambda match: self.values[match.group(0)], text)

    def restore_document(self, value: Any) -> Any:
        """Every string in a JSON document restored (an answer's ``choices``)."""
        if isinstance(value, str):
            return self.restore(value)
        if isinstance(value, list):
            return [self.restore_document(item) for item in value]
        if isinstance(value, dict):
            return {key: self.restore_document(item) for key, item in value.items()}
        return value


def mask_messages(
    messages: list[Any],
    findings: list[AuditedFinding],
    types: set[str],
    masking: Masking,
    digest: Callable[[str], str],
) -> list[Any]:
    """A copy of ``messages`` with the values of ``types`` that ``findings`` locate replaced
    by placeholders; :class:`MaskingError` when one cannot be replaced everywhere. Each
    located value must have the keyed ``digest`` the decision's record holds for it.

    A finding names the field it was found in (``path``): a field holding text is rewritten
    at the finding's offsets; in a field given as an object (its JSON was scanned) the
    value is found by the same offsets in that JSON and replaced wherever it occurs."""
    masked = copy.deepcopy(messages)
    spans: dict[tuple[int, str], list[tuple[int, int, str, str]]] = defaultdict(list)
    for finding in findings:
        if finding.type in types and finding.message is not None:
            if finding.path is None or len(finding.value_digests) != len(finding.spans):
                raise MaskingError("the decision does not locate every value to mask")
            spans[(finding.message, finding.path)].extend(
                (a, b, finding.type, d)
                for (a, b), d in zip(finding.spans, finding.value_digests, strict=True)
            )
    for (index, path), found in spans.items():
        if index == len(masked):  # the request's fields beside the messages (decide_request)
            raise MaskingError(
                "a value to mask is in the request's fields beside the messages (tools,"
                " response_format …), which the proxy does not rewrite"
            )
        message = masked[index] if 0 <= index < len(masked) else None
        if not isinstance(message, dict):
            raise MaskingError(f"message {index} cannot be masked")
        container, key = _field(message, path)
        value = container[key]
        text = scanned_text(value)
        if any(digest(text[a:b]) != value_digest for a, b, _, value_digest in found):
            raise MaskingError("a located value does not match the decision's record")
        located = [(a, b, entity_type) for a, b, entity_type, _ in found]
        if isinstance(value, str):
            container[key] = _masked_text(text, located, masking)
        else:  # an object: its strings are masked below, wherever the values occur
            for a, b, entity_type in located:
                masking.placeholder(entity_type, text[a:b])
    _mask_everywhere(masked, masking)
    return masked


def _field(message: dict[str, Any], path: str) -> tuple[Any, Any]:
    """The container holding the field ``path`` names in ``message``, and its key there."""
    node: Any = message
    steps = path.split(".")
    for step in steps[:-1]:
        node = _step(node, step)
    last = steps[-1]
    key: Any = int(last) if isinstance(node, list) and last.isdigit() else last
    if isinstance(node, list) and isinstance(key, int) and key < len(node):
        return node, key
    if isinstance(node, dict) and key in node:
        return node, key
    raise MaskingError("a value sits in a field the proxy cannot rewrite")


def _step(node: Any, step: str) -> Any:
    if isinstance(node, list) and step.isdigit() and int(step) < len(node):
        return node[int(step)]
    if isinstance(node, dict) and step in node:
        return node[step]
    raise MaskingError("a value sits in a field the proxy cannot rewrite")


def _masked_text(text: str, spans: list[tuple[int, int, str]], masking: Masking) -> str:
    """``text`` with each span (overlapping ones merged) replaced by its placeholder."""
    merged: list[list[Any]] = []
    for start, end, entity_type in sorted(spans):
        if merged and start < merged[-1][1]:
            last = merged[-1]
            if end - start > last[1] - last[0]:
                last[2] = entity_type
            last[1] = max(last[1], end)
        else:
            merged.append([start, end, entity_type])
    out: list[str] = []
    cursor = 0
    for start, end, entity_type in merged:
        out.append(text[cursor:start])
        out.append(masking.placeholder(entity_type, text[start:end]))
        cursor = end
    out.append(text[cursor:])
    return "".join(out)


def _mask_everywhere(messages: list[Any], masking: Masking) -> None:
    """Replace other occurrences of the masked values (as whole words) in every text the
    proxy can rewrite; refuse when one is left anywhere in the messages."""
    if not masking.values:
        return
    by_value = sorted(((v, name) for name, v in masking.values.items()), key=lambda p: -len(p[0]))
    patterns = [(_word(value), name) for value, name in by_value]

    def mask(text: str) -> str:
        for pattern, name in patterns:
            text = pattern.sub(name, text)
        return text

    for index, message in enumerate(messages):
        messages[index] = _mask_strings(message, mask)
    forwarded = json.dumps(messages, ensure_ascii=False)
    for value, _ in by_value:
        escaped = json.dumps(value, ensure_ascii=False)[1:-1]
        if _word(value).search(forwarded) or _word(escaped).search(forwarded):
            raise MaskingError("a masked value also sits where the proxy cannot rewrite it")


def _mask_strings(value: Any, mask: Callable[[str], str]) -> Any:
    """``value`` (JSON data) with ``mask`` applied to every string in it; structural values
    (roles, part types) hold no masked value and stay as they are."""
    if isinstance(value, str):
        return mask(value)
    if isinstance(value, list):
        return [_mask_strings(item, mask) for item in value]
    if isinstance(value, dict):
        return {key: _mask_strings(item, mask) for key, item in value.items()}
    return value


def _word(value: str) -> re.Pattern[str]:
    return re.compile(r"(?<!\w)" + re.escape(value) + r"(?!\w)")
