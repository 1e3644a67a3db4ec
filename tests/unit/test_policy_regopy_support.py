"""Reading regopy's error dumps and outputs."""

from __future__ import annotations

from pathlib import Path

import pytest
import regopy

from policy_engine.errors import PolicyLoadError
from policy_engine.policy.regopy_support import (
    build,
    describe_errors,
    new_interpreter,
    parse_errors,
    read_output,
)

BAD = "package bad\n\nx if {\n"


def rego_error(name: str, source: str) -> str:
    interpreter = regopy.Interpreter()
    interpreter.log_level = regopy.LogLevel.NONE
    with pytest.raises(regopy.RegoError) as caught:
        interpreter.add_module(name, source)
    return str(caught.value)


def test_parse_error_is_located() -> None:
    entries = parse_errors(rego_error("rules/bad.rego", BAD))
    assert entries
    assert entries[0].file == "rules/bad.rego"
    assert entries[0].message == "this is unclosed"
    assert entries[0].offset is not None


def test_description_gives_file_line_column() -> None:
    text = rego_error("rules/bad.rego", BAD)
    described = describe_errors(text, {"rules/bad.rego": BAD}, base=Path("/p"))
    assert described.startswith("/p/rules/bad.rego:3:")
    assert described.endswith("this is unclosed")
    assert "rego-" not in described  # no tree dump


def test_location_counts_characters_after_non_ascii() -> None:
    source = "package bad\n# é ü\ny := {\n"
    text = rego_error("bad.rego", source)
    assert describe_errors(text, {"bad.rego": source}).startswith("bad.rego:3:")


def test_error_without_location_and_unparsable_text() -> None:
    dump = "(error\n  (errormsg 32:Function not found: undefined_fn)\n  (errorast))"
    assert describe_errors(dump, {}) == "Function not found: undefined_fn"
    assert describe_errors("<error>\nmore", {}) == "<error>"
    assert describe_errors("", {}) == "unknown error"


def test_new_interpreter_raises_policy_load_error() -> None:
    with pytest.raises(PolicyLoadError, match=r"^bad\.rego:3:\d+: this is unclosed"):
        new_interpreter({"bad.rego": BAD}, {})


def test_read_output_classifies() -> None:
    interpreter = new_interpreter(
        {
            "m.rego": "package m\n\nvalue := 3\n\nnothing if false\n\n"
            "broken := x if { x := no_such_function(1) }\n"
        },
        {"catalog": {}},
    )
    for query, expected in [("data.m.value", (True, 3, None)), ("data.m.nothing", (False, None))]:
        bundle = build(interpreter, query, [], what="test")
        outcome = read_output(lambda b=bundle: interpreter.query_bundle(b))
        assert (outcome.defined, outcome.value) == expected[:2]
        assert outcome.error is None
    bundle = build(interpreter, "data.m.broken", [], what="test")
    outcome = read_output(lambda: interpreter.query_bundle(bundle))
    assert not outcome.defined
    assert outcome.error is not None and "no_such_function" in outcome.error
