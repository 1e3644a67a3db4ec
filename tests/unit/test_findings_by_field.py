"""Findings in a message's other strings are attributed to the field each span falls in."""

from __future__ import annotations

from policy_engine.findings import aggregate
from policy_engine.models import DecideRequest, DetectedSpan


def span(start: int, end: int, entity_type: str = "US_SSN") -> DetectedSpan:
    return DetectedSpan(
        type=entity_type, category="pii", start=start, end=end, score=0.9, detector="t"
    )


def test_spans_go_to_their_field_with_offsets_in_its_value() -> None:
    message = {"role": "user", "content": "hi", "name": "Jo 536-22-8190", "tool_call_id": "x1"}
    units = DecideRequest.model_validate({"messages": [message]}).segments_to_scan()
    (other,) = [u for u in units if u.fields]
    at = other.text.index("536-22-8190")
    findings, sources = aggregate([(other, [span(at, at + 11)])])
    (finding,) = findings
    assert (finding.message, finding.path, finding.spans) == (0, "name", [(3, 14)])
    start, end = finding.spans[0]
    assert sources[0].text[start:end] == "536-22-8190"


def test_a_span_in_a_field_name_goes_to_that_field_and_one_across_fields_is_cut() -> None:
    message = {"role": "user", "content": "hi", "name": "abc", "tool_call_id": "defgh"}
    units = DecideRequest.model_validate({"messages": [message]}).segments_to_scan()
    (other,) = [u for u in units if u.fields]
    assert other.text == "name: abc\ntool_call_id: defgh"
    in_second_name = other.text.index("tool_call_id")
    across = (other.text.index("bc"), other.text.index("defgh") + 2)
    findings, _ = aggregate([(other, [span(in_second_name, in_second_name + 4, "A"),
                                      span(*across, "B")])])  # fmt: skip
    by_type = {f.type: (f.path, f.spans) for f in findings}
    assert by_type["A"] == ("tool_call_id", [(0, 0)])
    assert by_type["B"] == ("name", [(1, 3)])
