"""From the spans detectors report to the findings a decision carries.

A finding is every match of one entity type by one detector (and one encoding) in one
scanned text; it never holds the matched value. The text each finding was found in is
returned beside it, for the values' keyed digests the audit record keeps.
"""

from __future__ import annotations

import bisect
from collections import defaultdict

from policy_engine.models import DetectedSpan, Finding, ScanUnit
from policy_engine.scan import Scanned


def aggregate(detected: Scanned) -> tuple[list[Finding], list[ScanUnit]]:
    """Group spans by (scanned text, detector, type, encoding) into findings, each with
    the text it was found in.

    A finding from an encoded payload (``encoded`` set) spans the whole encoded run. A
    message's other strings (a unit with ``fields``) give findings per field, with spans
    and the text they were found in taken from the field's value (:func:`by_field`).
    """
    findings: list[Finding] = []
    sources: list[ScanUnit] = []
    for scanned_unit, scanned_spans in detected:
        pieces = (
            by_field(scanned_unit, scanned_spans)
            if scanned_unit.fields
            else [(scanned_unit, scanned_spans)]
        )
        for unit, spans in pieces:
            groups: dict[tuple[str, str, str, str], list[DetectedSpan]] = defaultdict(list)
            for span in spans:
                key = (span.type, span.detector, span.category, span.encoded or "")
                groups[key].append(span)
            for (entity_type, detector, category, encoded), group in sorted(groups.items()):
                group.sort(key=lambda s: (s.start, s.end))
                findings.append(
                    # Every field is built here from validated spans (a count of at least
                    # one, scores in [0, 1]): no second validation on the hot path.
                    Finding.model_construct(
                        type=entity_type,
                        category=category,
                        count=len(group),
                        max_score=round(max(s.score for s in group), 4),
                        spans=[(s.start, s.end) for s in group],
                        detector=detector,
                        message=unit.message,
                        part=unit.part,
                        path=unit.path,
                        encoded=encoded or None,
                    )
                )
                sources.append(unit)
    return findings, sources


def by_field(
    unit: ScanUnit, spans: list[DetectedSpan]
) -> list[tuple[ScanUnit, list[DetectedSpan]]]:
    """The spans found in a message's other strings, per field: each span goes to the field
    its start falls in (or whose line it starts in, the field's name), cut to the field's
    value and counted from its start; the field's value is the text it was found in."""
    starts = [field.start for field in unit.fields]
    per_field: dict[int, list[DetectedSpan]] = defaultdict(list)
    for span in spans:
        index = max(0, bisect.bisect_right(starts, span.start) - 1)
        if span.start >= unit.fields[index].end and index + 1 < len(starts):
            index += 1  # past the value: in the next line's field name
        field = unit.fields[index]
        start = min(max(span.start, field.start), field.end) - field.start
        end = max(min(span.end, field.end) - field.start, start)
        per_field[index].append(span.model_copy(update={"start": start, "end": end}))
    return [
        (
            ScanUnit(
                text=unit.text[field.start : field.end],
                message=unit.message,
                part=field.part,
                path=field.path,
            ),
            per_field[index],
        )
        for index, field in enumerate(unit.fields)
        if index in per_field
    ]
