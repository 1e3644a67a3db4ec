"""Scanning through disguises: the normalized view, and encoded payloads decoded.

:func:`scan` runs a plain analysis (``analyze``: text → spans in that text) on the
normalized view of a text (:mod:`.normalize`) and maps every span back to the original
offsets. Then it decodes the base64, hex and URL-encoded runs of the view
(:mod:`.encoded`), scans all of them with one more analysis call per nesting level (up to
:data:`MAX_DEPTH`), and reports what it finds there on the span of the whole encoded run,
marked ``encoded`` (``base64``; nested encodings joined by ``+``, outermost first).
"""

from __future__ import annotations

import bisect
from collections.abc import Callable

from policy_engine.detection.encoded import find_payloads
from policy_engine.detection.normalize import normalize
from policy_engine.models import DetectedSpan

#: Levels of encoding followed (base64 inside URL-encoding is two levels).
MAX_DEPTH = 2

#: Placed between decoded payloads scanned in one call, so no match spans two of them.
_JOIN = "\n\n\n"

Analyze = Callable[[str], list[DetectedSpan]]


def scan(text: str, analyze: Analyze, *, depth: int = 0) -> list[DetectedSpan]:
    """Spans of ``text`` (original offsets), including those in decoded payloads."""
    view = normalize(text)
    spans = analyze(view.text)
    if view.changed:
        spans = [_moved(span, *view.original_span(span.start, span.end)) for span in spans]
    if depth >= MAX_DEPTH:
        return spans
    payloads = find_payloads(view.text)
    if not payloads:
        return spans
    starts: list[int] = []
    pieces: list[str] = []
    position = 0
    for payload in payloads:
        starts.append(position)
        pieces.append(payload.text)
        position += len(payload.text) + len(_JOIN)
    inner = scan(_JOIN.join(pieces), analyze, depth=depth + 1)
    seen: set[tuple[int, int, str, str, str]] = set()
    for span in inner:
        index = bisect.bisect_right(starts, span.start) - 1
        payload = payloads[index]
        if span.end > starts[index] + len(payload.text):
            continue  # cannot happen with _JOIN between payloads; never map it elsewhere
        start, end = view.original_span(payload.start, payload.end)
        encoded = payload.encoding if span.encoded is None else f"{payload.encoding}+{span.encoded}"
        key = (start, end, span.type, span.detector, encoded)
        if key in seen:
            continue
        seen.add(key)
        spans.append(_moved(span, start, end, encoded=encoded))
    spans.sort(key=lambda s: (s.start, s.end, s.type))
    return spans


def _moved(span: DetectedSpan, start: int, end: int, *, encoded: str | None = None) -> DetectedSpan:
    update: dict[str, object] = {"start": start, "end": end}
    if encoded is not None:
        update["encoded"] = encoded
    return span.model_copy(update=update)
