"""rego-cpp's C API on the evaluation path: the input built in one pass that also checks it,
and the short calls made without giving up the GIL.

**The GIL.** regopy loads rego-cpp with ``ctypes.cdll``, so every call, however short,
releases the GIL and takes it back. In a service, other threads want it (the event loop,
detection of concurrent requests): each release lets one of them in, and taking the GIL
back can wait for it to yield, up to the interpreter's switch interval (5 ms). Building an
input with six findings, a few hundred such calls, took 30 ms instead of 0.2 with one busy
thread beside it. Here the short calls (building the input, handing it over, reading and
freeing the output) go through a ``ctypes.PyDLL`` handle on the same library, which keeps
the GIL; only the evaluation itself (:func:`query_bundle`, milliseconds of work in C)
releases it, so that other threads run meanwhile.

**The input.** regopy's ``Input`` builds the document node by node: one call per value,
behind a Python wrapper that copies the string into a new buffer and compares the status
with an ``IntEnum``. For a decision's input that took 0.3 ms with six findings and 1.0 ms
with thirty (a long chat), on top of a :func:`json.dumps` pass and a key check that made
sure the document is JSON. :class:`PolicyInput` makes the same calls in the same order,
with the same results (a test compares what the policy sees), reuses the encoding of
repeated strings (the keys of every finding) and refuses what is not JSON on the way:
0.16 ms and 0.54 ms for those inputs, the check included.

What counts as JSON is what :func:`json.dumps` (``allow_nan=False``) accepts, with string
object keys only: a non-string key would reach the policy as it is. ``dict`` and
``list``/``tuple`` are objects and arrays, subclasses of ``str``, ``int`` and ``float``
(enums, say) their values. Everything else (a set, NaN, any other object) is refused with
the exception type ``json.dumps`` raises for it (:class:`NotJSON`). An integer beyond 64
bits, which JSON allows but rego-cpp's API does not take, is refused too
(:class:`IntegerTooLarge`): through regopy, ctypes wrapped it round silently (2**64 became 0).
"""

from __future__ import annotations

import ctypes
import json
import math
from typing import Any

import regopy
from regopy import rego_shared

from policy_engine.policy.regopy_support import Outcome

#: The library regopy loaded, called without releasing the GIL (for short calls only).
_held = ctypes.PyDLL(rego_shared.rego._name)
_VOID_P = ctypes.c_void_p
_STATUS = ctypes.c_uint32
for _name, _restype, _argtypes in (
    ("regoNewInput", _VOID_P, []),
    ("regoFreeInput", None, [_VOID_P]),
    ("regoInputString", _STATUS, [_VOID_P, ctypes.c_char_p]),
    ("regoInputInt", _STATUS, [_VOID_P, ctypes.c_int64]),
    ("regoInputFloat", _STATUS, [_VOID_P, ctypes.c_double]),
    ("regoInputBoolean", _STATUS, [_VOID_P, ctypes.c_bool]),
    ("regoInputNull", _STATUS, [_VOID_P]),
    ("regoInputObjectItem", _STATUS, [_VOID_P]),
    ("regoInputObject", _STATUS, [_VOID_P, ctypes.c_uint32]),
    ("regoInputArray", _STATUS, [_VOID_P, ctypes.c_uint32]),
    ("regoSetInput", _STATUS, [_VOID_P, _VOID_P]),
    ("regoOutputOk", ctypes.c_bool, [_VOID_P]),
    ("regoOutputJSONSize", ctypes.c_uint32, [_VOID_P]),
    ("regoOutputJSON", _STATUS, [_VOID_P, ctypes.POINTER(ctypes.c_char), ctypes.c_uint32]),
    ("regoFreeOutput", None, [_VOID_P]),
):
    _function = getattr(_held, _name)
    _function.restype = _restype
    _function.argtypes = _argtypes

_new_input = _held.regoNewInput
_free_input = _held.regoFreeInput
_string = _held.regoInputString
_integer = _held.regoInputInt
_float = _held.regoInputFloat
_boolean = _held.regoInputBoolean
_null = _held.regoInputNull
_object_item = _held.regoInputObjectItem
_object = _held.regoInputObject
_array = _held.regoInputArray
_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1


class IntegerTooLarge(Exception):
    """The document holds an integer beyond 64 bits: JSON, but rego-cpp cannot take it."""


class NotJSON(Exception):
    """The document is not JSON; ``kind`` is the exception type :func:`json.dumps` (or the
    key check) names for it: ``TypeError`` or ``ValueError``. Never holds a value."""

    def __init__(self, kind: str) -> None:
        super().__init__(kind)
        self.kind = kind


class PolicyInput(regopy.Input):  # type: ignore[misc]
    """``regopy.Input(document)``, faster, for JSON documents only (else :class:`NotJSON`).

    An instance owns its rego-cpp input, freed with it."""

    def __init__(self, document: Any) -> None:
        impl = _new_input()
        try:
            _Builder(impl).add(document)
        except RecursionError:  # nested too deep (or circular), as json.dumps finds too
            _free_input(impl)
            raise NotJSON("ValueError") from None
        except BaseException:
            _free_input(impl)
            raise
        self._impl = impl

    def __del__(self) -> None:
        if hasattr(self, "_impl"):
            _free_input(self._impl)


class _Builder:
    """Pushes one document onto a rego-cpp input, depth first (rego-cpp's input API is a
    stack: values, then the container that takes the last ``n`` of them)."""

    def __init__(self, impl: Any) -> None:
        self.impl = impl
        self.encoded: dict[str, bytes] = {}

    def add(self, value: Any) -> None:
        kind = type(value)
        if kind is str:
            self.string(value)
        elif kind is dict:
            self.mapping(value)
        elif kind is list or kind is tuple:
            self.sequence(value)
        elif kind is bool:
            self.check(_boolean(self.impl, value))
        elif kind is int:
            self.integer(value)
        elif kind is float:
            self.real(value)
        elif value is None:
            self.check(_null(self.impl))
        else:
            self.subclass(value)

    def subclass(self, value: Any) -> None:
        """A value of a subclass of a JSON type (an enum member, say), as ``json.dumps``
        writes it; anything else is not JSON."""
        if isinstance(value, str):
            self.string(str.__str__(value))
        elif isinstance(value, dict):
            self.mapping(value)
        elif isinstance(value, list | tuple):
            self.sequence(value)
        elif isinstance(value, bool):  # bool cannot be subclassed; kept for the order
            self.check(_boolean(self.impl, value))
        elif isinstance(value, int):
            self.integer(int(value))
        elif isinstance(value, float):
            self.real(float(value))
        else:
            raise NotJSON("TypeError")

    def string(self, value: str) -> None:
        encoded = self.encoded.get(value)
        if encoded is None:
            encoded = self.encoded[value] = value.encode("utf-8")
        self.check(_string(self.impl, encoded))

    def integer(self, value: int) -> None:
        if not _INT64_MIN <= value <= _INT64_MAX:  # ctypes would wrap it round silently
            raise IntegerTooLarge()
        self.check(_integer(self.impl, value))

    def real(self, value: float) -> None:
        if not math.isfinite(value):
            raise NotJSON("ValueError")
        self.check(_float(self.impl, value))

    def mapping(self, value: dict[Any, Any]) -> None:
        for key, item in value.items():
            if not isinstance(key, str):
                raise NotJSON("TypeError")
            self.string(str.__str__(key))
            self.add(item)
            self.check(_object_item(self.impl))
        self.check(_object(self.impl, len(value)))

    def sequence(self, value: list[Any] | tuple[Any, ...]) -> None:
        for item in value:
            self.add(item)
        self.check(_array(self.impl, len(value)))

    @staticmethod
    def check(status: int) -> None:
        if status != 0:
            raise regopy.RegoError("Unable to create input", status)


def set_input(interpreter: regopy.Interpreter, document: PolicyInput) -> None:
    """``interpreter.set_input(document)``, keeping the GIL."""
    status = _held.regoSetInput(interpreter._impl, document._impl)
    if status != 0:
        raise regopy.RegoError(rego_shared.rego_get_error(interpreter._impl), status)


def query_bundle(interpreter: regopy.Interpreter, bundle: regopy.Bundle) -> Outcome:
    """``read_output(lambda: interpreter.query_bundle(bundle))``
    (:func:`~.regopy_support.read_output`): the same outcome for every output, with the GIL
    released only while rego-cpp evaluates."""
    output = rego_shared.rego.regoBundleQuery(interpreter._impl, bundle._impl)
    if not output:
        return Outcome(defined=False, error=str(rego_shared.rego_get_error(interpreter._impl)))
    try:
        ok = _held.regoOutputOk(output)
        text = _output_text(output)
    finally:
        _held.regoFreeOutput(output)
    if not ok:
        return Outcome(defined=False, error=text)
    try:
        parsed = {} if text == "undefined" else json.loads(text)
    except json.JSONDecodeError as exc:  # an evaluation error is not JSON
        return Outcome(defined=False, error=exc.doc)
    results = parsed if isinstance(parsed, list) else [parsed]
    if len(results) != 1:
        return Outcome(defined=False)
    expressions = results[0].get("expressions", [])
    if len(expressions) != 1:
        return Outcome(defined=False)
    return Outcome(defined=True, value=expressions[0])


def _output_text(output: int) -> str:
    size = _held.regoOutputJSONSize(output)
    buffer = ctypes.create_string_buffer(size)
    status = _held.regoOutputJSON(output, buffer, size)
    if status != 0:
        raise regopy.RegoError("Unable to read the output", status)
    return buffer.value.decode("utf-8")
