"""The policy input built for rego-cpp in one pass: the same document regopy builds, and
the same refusals as the JSON check it replaced.

(The reference is regopy's ``Input``, not JSON text: rego-cpp keeps the escapes of JSON
strings as written, so ``"Zo\\u00eb"`` in JSON text is eight characters to a policy.)"""

from __future__ import annotations

import enum
import json
import math
import sys
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

import pytest
import regopy
from regopy import rego_shared

from policy_engine.errors import PolicyError
from policy_engine.policy import EmbeddedEvaluator, load_policy_set
from policy_engine.policy.rego_calls import (
    IntegerTooLarge,
    NotJSON,
    PolicyInput,
    query_bundle,
    set_input,
)
from policy_engine.policy.regopy_support import read_output
from tests.unit.test_policy_embedded import CATALOG, SHIPPED


class Colour(enum.StrEnum):
    RED = "red"


class Level(enum.IntEnum):
    HIGH = 3


ODD = 'Zoë "q" \\ \n \u2028 😀'

DOCUMENTS: list[Any] = [
    {},
    {"a": []},
    {
        "context": {"tenant": ODD, "application": "chat", "purpose": Colour.RED},
        "findings": [
            {"type": "PERSON", "category": "pii", "count": 3, "max_score": 0.85, "message": i}
            for i in range(4)
        ],
        "levels": [Level.HIGH, True, False, None, -1, 0, 2**62, -(2**63), -0.0, 2.5, 0.1],
        "nested": {"x": [[], {}, [[{"y": ("t", 1)}]]], ODD: {"": ""}},
    },
    OrderedDict([("b", 1), ("a", 2)]),
]


def printed(document: regopy.Input) -> str:
    """``input`` as rego-cpp prints it (its raw output: regopy's own decoding of the output
    fails on some of the strings here)."""
    interpreter = regopy.Interpreter()
    interpreter.set_input(document)
    output = rego_shared.rego_query(interpreter._impl, "x := input")
    try:
        assert rego_shared.rego_output_ok(output)
        text: str = rego_shared.rego_output_string(output)
        return text
    finally:
        rego_shared.rego_free_output(output)


@pytest.mark.parametrize("document", DOCUMENTS)
def test_the_policy_sees_what_regopy_gives(document: Any) -> None:
    ours = printed(PolicyInput(document))
    assert ours == printed(regopy.Input(document))
    assert ours != printed(regopy.Input({**document, "extra": 1}))
    assert '"x":{' in ours  # the whole document was printed


def circular() -> dict[str, Any]:
    document: dict[str, Any] = {"a": []}
    document["a"].append(document)
    return document


@pytest.mark.parametrize(
    ("document", "kind"),
    [
        ({"tags": {"a", "set"}}, "TypeError"),
        ({"findings": [{"max_score": math.nan}]}, "ValueError"),
        ({"findings": [{"max_score": -math.inf}]}, "ValueError"),
        ({"context": {1: "a"}}, "TypeError"),
        ({"context": {None: "a"}}, "TypeError"),
        ({"deep": [[[object()]]]}, "TypeError"),
        ({"raw": b"bytes"}, "TypeError"),
        (circular(), "ValueError"),
    ],
)
def test_what_is_not_json_is_refused_as_json_dumps_would(document: Any, kind: str) -> None:
    with pytest.raises(NotJSON) as refused:
        PolicyInput(document)
    assert refused.value.kind == kind
    if kind != "TypeError" or not isinstance(document.get("context"), dict):
        with pytest.raises(TypeError if kind == "TypeError" else ValueError):
            json.dumps(document, allow_nan=False)


def test_the_evaluator_names_the_problem_never_the_value() -> None:
    shipped = EmbeddedEvaluator(load_policy_set(SHIPPED, {"catalog": CATALOG}))
    secret = "tenant-4f1c"
    with pytest.raises(PolicyError, match=r"not JSON \(ValueError\)") as not_json:
        shipped.evaluate({"context": {"tenant": secret}, "findings": [{"max_score": math.nan}]})
    assert secret not in str(not_json.value)
    with pytest.raises(PolicyError, match="integer beyond 64 bits") as too_big:
        shipped.evaluate({"context": {"tenant": secret}, "content": {"characters": 2**64}})
    assert secret not in str(too_big.value)


@pytest.mark.parametrize("value", [2**63, -(2**63) - 1, 2**64])
def test_integers_beyond_64_bits_are_refused_not_wrapped(value: int) -> None:
    with pytest.raises(IntegerTooLarge):
        PolicyInput({"content": {"characters": value}})
    edge = {"content": {"characters": 2**63 - 1}}
    assert str(2**63 - 1) in printed(PolicyInput(edge))


class BusyThread:
    """A thread counting as fast as it can while it holds the GIL."""

    def __init__(self) -> None:
        self.count = 0
        self.stop = False
        self.thread = threading.Thread(target=self.run, daemon=True)

    def run(self) -> None:
        while not self.stop:
            self.count += 1

    def __enter__(self) -> BusyThread:
        self.thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop = True
        self.thread.join()


def others_ran_during(call: Callable[[], object]) -> bool:
    """Whether another thread that wants the GIL ran while ``call()`` did.

    With a switch interval of 0.2 s, a thread holding the GIL keeps it that long against a
    waiting one; the call (well under a millisecond) starts just after this thread got the
    GIL back, so the busy thread can only run during it if the call gives the GIL up."""
    interval = sys.getswitchinterval()
    sys.setswitchinterval(0.2)
    try:
        with BusyThread() as busy:
            while busy.count == 0:
                time.sleep(0)
            time.sleep(0)  # the busy thread runs; this one has the GIL again after it
            before = busy.count
            call()
            return busy.count != before
    finally:
        sys.setswitchinterval(interval)


def test_the_input_is_built_and_handed_over_without_giving_up_the_gil() -> None:
    document = {"findings": [{"type": "PERSON", "category": "pii", "count": 2} for _ in range(10)]}
    assert others_ran_during(lambda: regopy.Input(document))  # the test can tell
    assert not others_ran_during(lambda: PolicyInput(document))
    interpreter = regopy.Interpreter()
    built = PolicyInput(document)
    assert not others_ran_during(lambda: set_input(interpreter, built))


QUERIES = {
    "defined": "package t\n\nanswer := count(input.findings)\n",
    "undefined": 'package t\n\nanswer := 1 if input.never == "set"\n',
    "error": (  # two values for one complete rule: an evaluation error
        "package t\n\nanswer = 1 if count(input.findings) > 0\n\n"
        "answer = 2 if count(input.findings) > 1\n"
    ),
    "object": 'package t\n\nanswer := {"segment": "any", "n": [1, 2.5, null, true]}\n',
}


@pytest.mark.parametrize("name", sorted(QUERIES))
def test_query_bundle_reads_the_output_as_regopy_does(name: str) -> None:
    interpreter = regopy.Interpreter()
    interpreter.log_level = regopy.LogLevel.NONE
    interpreter.add_module("t", QUERIES[name])
    bundle = interpreter.build("data.t.answer", [])
    document = {"findings": [{"type": "PERSON"}] * 3}
    interpreter.set_input(regopy.Input(document))
    expected = read_output(lambda: interpreter.query_bundle(bundle))
    set_input(interpreter, PolicyInput(document))
    assert query_bundle(interpreter, bundle) == expected
    assert expected.defined is (name in ("defined", "object"))
    assert (expected.error is not None) is (name == "error")
