"""The policy input built for rego-cpp in one pass: the same document regopy builds, and
the same refusals as the JSON check it replaced.

(The reference is regopy's ``Input``, not JSON text: rego-cpp keeps the escapes of JSON
strings as written, so ``"Zo\\u00eb"`` in JSON text is eight characters to a policy.)"""

from __future__ import annotations

import enum
import json
import math
from collections import OrderedDict
from typing import Any

import pytest
import regopy
from regopy import rego_shared

from policy_engine.errors import PolicyError
from policy_engine.policy import EmbeddedEvaluator, load_policy_set
from policy_engine.policy.regopy_input import IntegerTooLarge, NotJSON, PolicyInput
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
