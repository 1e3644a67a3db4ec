"""The embedded evaluator: rego-cpp (regopy) inside the engine's process.

Modules and data are compiled once into a bundle for ``data.segmentation.decision``; each
evaluation only sets the input and runs the bundle. The interpreter is not thread-safe, so
evaluations are serialized by a lock. Catalog-only modules are folded into constants at load
(:mod:`policy_engine.policy.folding`).

A policy set is checked on construction: it must not contain a construct known to crash the
engine (:mod:`policy_engine.policy.hazards`), it must compile, and the decision must come out
well-formed for a few synthetic inputs, so that a broken set is refused at load time rather
than failing every request. Errors at request time never quote the input.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from policy_engine.errors import PolicyError, PolicyLoadError
from policy_engine.models import PolicyResult
from policy_engine.policy.folding import fold
from policy_engine.policy.hazards import find_hazards
from policy_engine.policy.loader import PolicySet
from policy_engine.policy.rego_calls import (
    IntegerTooLarge,
    NotJSON,
    PolicyInput,
    query_bundle,
    set_input,
)
from policy_engine.policy.regopy_support import (
    Outcome,
    build,
    describe_errors,
    new_interpreter,
    read_output,
)

DECISION_QUERY = "data.segmentation.decision"

#: Synthetic inputs evaluated at load time: nothing found, and a bit of everything.
SELF_CHECK_INPUTS: tuple[dict[str, Any], ...] = (
    {
        "context": {},
        "findings": [],
        "entity_types": [],
        "categories": [],
        "content": {"characters": 0, "estimated_tokens": 0},
    },
    {
        "context": {"tenant": "self-check", "declared_classification": "internal"},
        "findings": [
            {"type": t, "category": c, "count": 1, "max_score": 1.0, "detector": "self-check"}
            for t, c in (
                ("EMAIL_ADDRESS", "pii"),
                ("US_SSN", "pii"),
                ("SELF_CHECK_SECRET", "secret"),
                ("SELF_CHECK_MARKER", "ip_marker"),
                ("SELF_CHECK_CODE", "source_code"),
            )
        ],
        "entity_types": sorted(
            ["EMAIL_ADDRESS", "US_SSN", "SELF_CHECK_SECRET", "SELF_CHECK_MARKER", "SELF_CHECK_CODE"]
        ),
        "categories": ["ip_marker", "pii", "secret", "source_code"],
        "content": {"characters": 100, "estimated_tokens": 25},
    },
)

_FUNCTION_NOT_FOUND = re.compile(r"Function not found: ([\w.]+)")


class _Compiled:
    """An interpreter with its decision bundle. Not thread-safe: callers hold a lock."""

    def __init__(self, modules: Mapping[str, str], policy_set: PolicySet) -> None:
        self.interpreter = new_interpreter(modules, policy_set.data, base=policy_set.directory)
        self.bundle = build(self.interpreter, DECISION_QUERY, [], what=str(policy_set.directory))

    def run(self, policy_input: Mapping[str, Any] | PolicyInput) -> Outcome:
        """Evaluate the bundle on ``policy_input``, a JSON document or one already built.

        The document is handed over as a value (:class:`~.rego_calls.PolicyInput`), not
        as JSON text: rego-cpp parses JSON text slowly (0.5 ms for a typical input against
        0.2 ms). Only the evaluation itself gives up the GIL (:mod:`.rego_calls`).
        """
        try:
            document = (
                policy_input if isinstance(policy_input, PolicyInput) else PolicyInput(policy_input)
            )
            set_input(self.interpreter, document)
        except Exception:  # regopy raises its own error types; never echo the input
            return Outcome(defined=False, error="input rejected")
        return query_bundle(self.interpreter, self.bundle)


class EmbeddedEvaluator:
    """:class:`policy_engine.ports.PolicyEvaluator` on regopy. Thread-safe.

    With ``fold_constants`` (the default), rule modules that depend only on the catalog are
    computed once at load (:mod:`policy_engine.policy.folding`), provided that the
    self-check decisions come out the same.
    """

    #: The backend's name (``PE_POLICY_BACKEND``), as ``GET /policies`` shows it.
    backend = "embedded"

    def __init__(self, policy_set: PolicySet, *, fold_constants: bool = True) -> None:
        self._policy_set = policy_set
        self._lock = threading.Lock()
        _refuse_hazards(policy_set)
        self._compiled = _Compiled(policy_set.modules, policy_set)
        expected = [self._self_check(self._compiled, sample) for sample in SELF_CHECK_INPUTS]
        self._folded: tuple[str, ...] = ()
        if fold_constants:
            self._fold(expected)

    @property
    def revision(self) -> str:
        return self._policy_set.revision

    @property
    def policy_set(self) -> PolicySet:
        return self._policy_set

    @property
    def folded_modules(self) -> tuple[str, ...]:
        """The modules whose contributions were computed at load time."""
        return self._folded

    def evaluate(self, policy_input: Mapping[str, Any]) -> PolicyResult:
        """``data.segmentation.decision`` for one input document.

        Raises :class:`PolicyError` when the input is not JSON, the decision is undefined or
        malformed, or the engine reports an error; the message never contains input values.
        """
        try:
            document = PolicyInput(policy_input)
        except NotJSON as exc:
            raise PolicyError(f"policy input is not JSON ({exc.kind})") from None
        except IntegerTooLarge:
            raise PolicyError(
                "policy input holds an integer beyond 64 bits, which the embedded Rego engine"
                " cannot take"
            ) from None
        except Exception as exc:  # regopy's own errors: name the type, never echo a value
            raise PolicyError(
                f"policy input rejected by the Rego engine ({type(exc).__name__})"
            ) from None
        with self._lock:
            outcome = self._compiled.run(document)
        if outcome.error is not None:
            raise PolicyError(f"{DECISION_QUERY}: the Rego engine reported an error")
        if not outcome.defined:
            raise PolicyError(f"{DECISION_QUERY} is undefined for this input")
        return _to_result(outcome.value)

    def _fold(self, expected: list[PolicyResult]) -> None:
        """Switch to folded modules when there are any and they decide the same."""
        modules = self._policy_set.modules
        scratch = new_interpreter(modules, self._policy_set.data)

        def value_of(query: str) -> Any:
            outcome = read_output(lambda: scratch.query(query))
            return outcome.value if outcome.error is None else None

        folded = fold(modules, value_of)
        changed = tuple(sorted(name for name in modules if folded[name] != modules[name]))
        if not changed:
            return
        try:
            candidate = _Compiled(folded, self._policy_set)
            results = [self._self_check(candidate, sample) for sample in SELF_CHECK_INPUTS]
        except PolicyLoadError:
            return
        if results == expected:
            self._compiled, self._folded = candidate, changed

    def _self_check(self, compiled: _Compiled, sample: Mapping[str, Any]) -> PolicyResult:
        """Evaluate a synthetic input; raise :class:`PolicyLoadError` explaining a failure."""
        where = str(self._policy_set.directory)
        outcome = compiled.run(sample)
        if outcome.error is not None:
            detail = describe_errors(outcome.error, self._policy_set.modules)
            raise PolicyLoadError(
                f"{where}: {DECISION_QUERY} fails on a self-check input: {detail}"
                + self._locate(detail)
            )
        if not outcome.defined:
            raise PolicyLoadError(
                f"{where}: {DECISION_QUERY} is undefined"
                " (is there a module with package segmentation defining decision?)"
            )
        try:
            return _to_result(outcome.value)
        except PolicyError as exc:
            raise PolicyLoadError(f"{where}: on a self-check input, {exc}") from None

    def _locate(self, detail: str) -> str:
        """Name the modules that call a function the engine could not find."""
        match = _FUNCTION_NOT_FOUND.search(detail)
        if match is None:
            return ""
        name = match.group(1).rsplit(".", 1)[-1]
        call = re.compile(rf"(?<![\w.]){re.escape(name)}\s*\(")
        files = [
            str(self._policy_set.path_of(module))
            for module, source in self._policy_set.modules.items()
            if call.search(source)
        ]
        return f" (called in {', '.join(files)})" if files else ""


def _refuse_hazards(policy_set: PolicySet) -> None:
    """Refuse constructs known to crash the engine: a crash would take the process down."""
    hazards = find_hazards(policy_set.modules)
    if hazards:
        found = "; ".join(
            f"{policy_set.path_of(name)}: {problem}"
            for name, problems in sorted(hazards.items())
            for problem in problems
        )
        raise PolicyLoadError(f"refused, the embedded Rego engine would crash: {found}")


def _to_result(value: Any) -> PolicyResult:
    try:
        return PolicyResult.model_validate(value)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in error['loc']) or 'decision'}: {error['msg']}"
            for error in exc.errors()
        )
        raise PolicyError(f"{DECISION_QUERY} is malformed ({problems})") from None
