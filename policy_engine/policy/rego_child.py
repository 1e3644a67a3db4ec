"""The child side of the Rego test runner (see :mod:`policy_engine.policy.rego_tests`).

Usage: ``python -m policy_engine.policy.rego_child JOB RESULTS``. JOB is a JSON file
``{"modules": {name: source}, "data": {...}, "tests": [[package, name], ...], "base": dir}``
(``base``, optional, prefixes file names in messages). Events are
appended to RESULTS as JSON lines, flushed one by one so that they survive a crash:
``{"event": "start", "index": i}`` before a test runs (with no tests, the modules are only
compiled), then ``{"event": "result", "index": i,
"passed": bool, "message": str, "duration_ms": float}`` (with ``"values": true`` in the job,
also ``"defined": bool, "value": …``: what the rule evaluated to); or one ``{"event": "error",
"message": str}`` when the set cannot be loaded or compiled.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import IO, Any

from policy_engine.errors import PolicyLoadError
from policy_engine.policy.rego_probe import UNDEFINED
from policy_engine.policy.regopy_support import build, describe_errors, new_interpreter, read_output


def entrypoint(package: str, name: str) -> str:
    """The bundle entrypoint of rule ``name`` in ``package``: ``a/b/name``."""
    return "/".join([*package.split("."), name])


def run_job(job: dict[str, Any], out: IO[str]) -> None:
    """Load, compile once, then evaluate each test, writing events to ``out``."""
    modules: dict[str, str] = job["modules"]
    tests: list[tuple[str, str]] = [(p, n) for p, n in job["tests"]]
    entrypoints = [entrypoint(package, name) for package, name in tests]
    try:
        base = Path(job["base"]) if job.get("base") else None
        interpreter = new_interpreter(modules, job["data"], base=base)
        # Without tests, only check that the modules compile.
        query = None if entrypoints else "true"
        bundle = build(interpreter, query, entrypoints, what="policy set")
    except PolicyLoadError as exc:
        _emit(out, {"event": "error", "message": str(exc)})
        return
    for index, point in enumerate(entrypoints):
        _emit(out, {"event": "start", "index": index})
        started = time.perf_counter()
        outcome = read_output(lambda p=point: interpreter.query_bundle_entrypoint(bundle, p))
        duration_ms = round((time.perf_counter() - started) * 1000, 3)
        if outcome.error is not None:
            passed, message = False, f"error: {describe_errors(outcome.error, modules)}"
        elif not outcome.defined:
            passed, message = False, UNDEFINED
        elif outcome.value is True:
            passed, message = True, ""
        else:
            passed, message = False, f"failed (value {json.dumps(outcome.value)[:200]})"
        event = {
            "event": "result",
            "index": index,
            "passed": passed,
            "message": message,
            "duration_ms": duration_ms,
        }
        if job.get("values"):
            event.update(defined=outcome.defined, value=outcome.value)
        _emit(out, event)


def _emit(out: IO[str], event: dict[str, Any]) -> None:
    out.write(json.dumps(event) + "\n")
    out.flush()


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) != 2:
        print("usage: python -m policy_engine.policy.rego_child JOB RESULTS", file=sys.stderr)
        return 2
    job = json.loads(Path(args[0]).read_text(encoding="utf-8"))
    with Path(args[1]).open("a", encoding="utf-8") as out:
        run_job(job, out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
