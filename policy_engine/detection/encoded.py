"""Encoded payloads inside a text: base64, hex and URL-encoded runs, decoded for scanning.

A run is decoded only when the result is readable text (valid UTF-8, at least 85 %
printable): random keys and commit hashes decode to bytes and are left alone (they are
scanned as they are). Work is bounded: at most :data:`MAX_CANDIDATES` runs tried and
:data:`MAX_PAYLOADS` decoded per text, each
at most :data:`MAX_RUN_CHARS` long, and at most :data:`MAX_DECODED_CHARS` decoded
characters in all; nesting is followed by the caller up to a fixed depth.
"""

from __future__ import annotations

import base64
import binascii
import re
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass

import regex

from policy_engine.detection.hyperscan_db import gate

MAX_PAYLOADS = 32
MAX_CANDIDATES = 512  # runs tried (decoded or not) per text
MAX_RUN_CHARS = 64 * 1024
MAX_DECODED_CHARS = 128 * 1024
MIN_DECODED_CHARS = 6

_HEX_OR_BASE64 = (
    r"(?P<hex>(?<![0-9A-Za-z])(?:[0-9A-Fa-f]{2}){8,}(?![0-9A-Za-z]))"
    r"|(?P<base64>(?<![A-Za-z0-9+/_-])[A-Za-z0-9+/_-]{16,}={0,2}(?![A-Za-z0-9+/=_-]))"
)
#: A URL-encoded run starts where a stretch without blanks and "%" starts (or where the
#: search resumes, ``\G``): if it cannot start there it cannot start later in the stretch
#: either, and trying every character made a long stretch quadratic (100 KB of
#: ``password=`` and one "%" took minutes).
URL_RUN = r"(?P<url>(?:(?<![^\s%])|\G)[^\s%]*(?:%[0-9A-Fa-f]{2}[^\s%]*)+)"
_CANDIDATES = regex.compile(_HEX_OR_BASE64 + "|" + URL_RUN)
#: The same without the URL-encoded branch, which needs a "%": used on texts without one,
#: and only inside :data:`_RUNS` (stdlib ``re``: four times faster here than ``regex``).
_HEX_OR_BASE64_RE = re.compile(_HEX_OR_BASE64)
#: Stretches a hex or base64 match lies in: it consumes only these characters, at least 16.
#: A stretch is maximal, so the characters around it satisfy both branches' lookarounds.
_RUNS = re.compile(r"[A-Za-z0-9+/_=-]{16,}")


@dataclass(frozen=True)
class Payload:
    """One decoded run: where it sits in the scanned text, its encoding and its text."""

    start: int
    end: int
    encoding: str  # base64 | hex | url
    text: str


def find_payloads(text: str) -> list[Payload]:
    """Decodable runs of ``text`` in order, within the bounds of this module."""
    payloads: list[Payload] = []
    budget = MAX_DECODED_CHARS
    for tried, match in enumerate(candidates(text)):
        if tried >= MAX_CANDIDATES:
            break
        run = match.group()
        if len(run) > MAX_RUN_CHARS:
            continue
        kind = match.lastgroup or ""
        decoded = _decode(kind, run)
        if decoded is None or len(decoded) > budget:
            continue
        budget -= len(decoded)
        payloads.append(Payload(match.start(), match.end(), kind, decoded))
        if len(payloads) >= MAX_PAYLOADS:
            break
    return payloads


def candidates(text: str) -> Iterator[re.Match[str] | regex.Match[str]]:
    """``_CANDIDATES.finditer(text)``: the same matches in the same order.

    Without a "%" there is no URL-encoded run, and every hex or base64 match lies inside
    one of :data:`_RUNS`: searching those stretches alone finds the same matches.
    """
    if "%" in text:
        yield from _CANDIDATES.finditer(text)
        return
    if not gate(_RUNS.pattern).may_match(text):
        return  # one hyperscan pass: no stretch of 16 in the text
    for stretch in _RUNS.finditer(text):
        yield from _HEX_OR_BASE64_RE.finditer(text, stretch.start(), stretch.end())


def _decode(kind: str, run: str) -> str | None:
    raw: bytes | None
    if kind == "hex":
        raw = bytes.fromhex(run)
    elif kind == "base64":
        raw = _b64(run)
    else:
        try:
            decoded = urllib.parse.unquote(run, errors="strict")
        except UnicodeDecodeError:
            return None
        return decoded if decoded != run and _readable(decoded) else None
    if raw is None:
        return None
    try:
        decoded = raw.decode("utf-8")
    except UnicodeDecodeError:
        return None
    return decoded if _readable(decoded) else None


def _b64(run: str) -> bytes | None:
    body = run.rstrip("=")
    if len(body) % 4 == 1:
        return None
    padded = body + "=" * (-len(body) % 4)
    try:
        if "-" in body or "_" in body:
            return base64.urlsafe_b64decode(padded)
        return base64.b64decode(padded, validate=True)
    except (binascii.Error, ValueError):
        return None


def _readable(text: str) -> bool:
    if len(text) < MIN_DECODED_CHARS:
        return False
    printable = sum(1 for ch in text if ch.isprintable() or ch in "\n\r\t")
    return printable >= 0.85 * len(text) and any(ch.isalnum() for ch in text)
