"""Policies: loading a policy directory, evaluating it, and running its tests.

``load_policy_set`` reads a directory into a :class:`PolicySet` (with its revision), compiling
YAML policies to Rego (``yaml_model``, ``yaml_load``, ``yaml_compile``);
:class:`EmbeddedEvaluator` evaluates it in-process with regopy, ``opa.OpaEvaluator`` on an OPA
server; ``run_rego_tests`` and ``yaml_cases.run_yaml_cases`` run its tests in child processes,
so that an interpreter crash is a failed test. ``bundle`` writes an OPA bundle, ``lint``
checks a directory, ``reloader`` swaps a tested set into a running engine, ``shadow`` runs a
candidate beside the active set.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from policy_engine.policy.embedded import DECISION_QUERY, EmbeddedEvaluator
from policy_engine.policy.loader import PolicySet, load_policy_set

if TYPE_CHECKING:
    from policy_engine.policy.rego_tests import (
        RegoTest,
        RegoTestResult,
        discover_tests,
        run_rego_tests,
        run_tests,
    )

__all__ = [
    "DECISION_QUERY",
    "EmbeddedEvaluator",
    "PolicySet",
    "RegoTest",
    "RegoTestResult",
    "discover_tests",
    "load_policy_set",
    "run_rego_tests",
    "run_tests",
]

_RUNNER_NAMES = {"RegoTest", "RegoTestResult", "discover_tests", "run_rego_tests", "run_tests"}


def __getattr__(name: str) -> Any:
    # The runner is imported lazily: `python -m policy_engine.policy.rego_tests` must not
    # find it already imported by this package.
    if name in _RUNNER_NAMES:
        from policy_engine.policy import rego_tests

        return getattr(rego_tests, name)
    raise AttributeError(f"module 'policy_engine.policy' has no attribute {name!r}")
