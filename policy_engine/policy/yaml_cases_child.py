"""The child side of the YAML case runner (see :mod:`policy_engine.policy.yaml_cases`).

Usage: ``python -m policy_engine.policy.yaml_cases_child JOB RESULTS``. JOB is a JSON file
``{"directory", "modules", "data", "revision", "cases": {file: yaml text}}``; one JSON line
per case is appended to RESULTS (``file``, ``name``, ``passed``, ``differences``, ``fired``).
A set that cannot be loaded, or a case file that is invalid, gives one failed line.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import IO, Any

from policy_engine.catalog import Catalog
from policy_engine.errors import PolicyEngineError
from policy_engine.policy.embedded import EmbeddedEvaluator
from policy_engine.policy.loader import PolicySet
from policy_engine.policy.yaml_cases import CaseResult, case_input, check_case
from policy_engine.policy.yaml_load import parse_cases


def main(argv: list[str]) -> int:
    job = json.loads(Path(argv[0]).read_text(encoding="utf-8"))
    with Path(argv[1]).open("a", encoding="utf-8") as out:
        run(job, out)
    return 0


def run(job: dict[str, Any], out: IO[str]) -> None:
    directory = Path(job["directory"])
    policy_set = PolicySet(
        directory=directory,
        modules=job["modules"],
        test_modules={},
        data=job["data"],
        revision=job["revision"],
    )
    try:
        evaluator = EmbeddedEvaluator(policy_set)
        catalog = Catalog.model_validate(policy_set.data.get("catalog"))
    except (PolicyEngineError, ValueError) as exc:
        _emit(out, CaseResult("(policy set)", "load", False, (str(exc),)))
        return
    for file, text in sorted(job["cases"].items()):
        try:
            cases = parse_cases(directory / file, text).cases
        except PolicyEngineError as exc:
            _emit(out, CaseResult(file, "(file)", False, (str(exc),)))
            continue
        for case in cases:
            try:
                result = evaluator.evaluate(case_input(case))
            except PolicyEngineError as exc:
                _emit(out, CaseResult(file, case.name, False, (f"evaluation failed: {exc}",)))
                continue
            _emit(out, check_case(file, case, result, catalog))


def _emit(out: IO[str], result: CaseResult) -> None:
    record = {
        "file": result.file,
        "name": result.name,
        "passed": result.passed,
        "differences": list(result.differences),
        "fired": list(result.fired),
    }
    out.write(json.dumps(record) + "\n")
    out.flush()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
