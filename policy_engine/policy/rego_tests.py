"""Rego unit tests: every ``test_*`` rule of the ``*_test.rego`` files of a policy directory.

Tests run in a child process (:mod:`policy_engine.policy.rego_child`): rego-cpp can crash
the process on some constructs, and a crash must be a failed test, not a dead runner. All
tests run in one child, which compiles the set once; when a child dies, the test it was
running is reported as crashed and the others run on in a fresh child. When the set crashes
while compiling (before any test runs), each test file is compiled and run on its own with
the policy modules, to tell which file does it. Crash messages name the known crash
patterns found in the file (see :mod:`policy_engine.policy.hazards`).

``python -m policy_engine.policy.rego_tests [DIR]`` prints one PASS/FAIL line per test and a
summary, and exits 1 when a test fails (2 when there is nothing to run).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from policy_engine.errors import PolicyLoadError
from policy_engine.policy.hazards import find_hazards
from policy_engine.policy.loader import PolicySet, load_policy_set
from policy_engine.policy.rego_probe import (
    UNDEFINED,
    Probe,
    explain_failure,
    probe_module,
    statements_of,
)

#: Default time limit for one child process, seconds.
DEFAULT_TIMEOUT = 600.0

#: Packages under this prefix are rule modules: a test package there would take part in
#: every decision (and recurse into itself when it tests one).
RULES_PREFIX = "segmentation.rules."

_PACKAGE = re.compile(r"^package\s+([A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*)\s*(?:#.*)?$", re.MULTILINE)
_TEST_RULE = re.compile(r"^(test_\w+)\b", re.MULTILINE)


@dataclass(frozen=True)
class RegoTest:
    """One ``test_*`` rule."""

    package: str
    rule: str
    file: str

    @property
    def name(self) -> str:
        return f"{self.package}.{self.rule}"


@dataclass(frozen=True)
class RegoTestResult:
    """The outcome of one test. ``message`` says why it failed; empty when it passed."""

    name: str
    file: str
    passed: bool
    message: str
    duration_ms: float = 0.0
    #: Set on a passing test that a bare ``opa test`` would fail: it reads data the engine
    #: gives the tests (the catalog) and the test does not give itself.
    warning: str = ""


def discover_tests(test_modules: Mapping[str, str]) -> list[RegoTest]:
    """The ``test_*`` rules of each module (rules start a line), in file order, unique."""
    tests: dict[str, RegoTest] = {}
    for file, source in sorted(test_modules.items()):
        package = _PACKAGE.search(source)
        if package is None:
            continue
        for match in _TEST_RULE.finditer(source):
            test = RegoTest(package=package.group(1), rule=match.group(1), file=file)
            tests.setdefault(test.name, test)
    return list(tests.values())


def run_rego_tests(
    policies_dir: Path,
    data: Mapping[str, Any] | None = None,
    *,
    timeout: float = DEFAULT_TIMEOUT,
) -> list[RegoTestResult]:
    """Load ``policies_dir`` and run all its Rego tests. Raises :class:`PolicyLoadError`."""
    return run_tests(load_policy_set(policies_dir, data or {}), timeout=timeout)


def run_tests(
    policy_set: PolicySet,
    tests: Sequence[RegoTest] | None = None,
    *,
    timeout: float = DEFAULT_TIMEOUT,
    check_data: bool = False,
) -> list[RegoTestResult]:
    """Run ``tests`` (default: all discovered) against the policy set, in discovery order.

    A test that is undefined gets a message naming the statement that did not hold and the
    values it compared (:mod:`.rego_probe`). With ``check_data``, the tests also run without
    the set's data (as a bare ``opa test`` runs them), and a test that passes only with it
    gets a ``warning``."""
    selected = list(discover_tests(policy_set.test_modules) if tests is None else tests)
    results: dict[str, RegoTestResult] = {}
    runnable = []
    for test in selected:
        if test.package.startswith(RULES_PREFIX):
            results[test.name] = _failed(
                test,
                f"test package {test.package} lies under {RULES_PREFIX[:-1]}: it would be"
                " read as a rule module; name it e.g. segmentation_test.rules.<module>",
            )
        else:
            runnable.append(test)
    # Such a package must not be loaded either: the core would evaluate it in every decision.
    test_modules = {
        name: source
        for name, source in policy_set.test_modules.items()
        if not _package_of(source).startswith(RULES_PREFIX)
    }
    with tempfile.TemporaryDirectory(prefix="rego-tests-") as scratch:
        runner = _ChildRunner(policy_set, test_modules, Path(scratch), timeout)
        without_data = runner.start_without_data(runnable) if check_data and runnable else None
        try:
            results.update({r.name: r for r in runner.run(runnable)})
            results.update(runner.explain(runnable, results))
            if without_data is not None:
                results.update(runner.data_warnings(without_data, runnable, results))
        finally:
            if without_data is not None and without_data[0].poll() is None:
                without_data[0].kill()
                without_data[0].communicate()
    return [results[test.name] for test in selected]


def _package_of(source: str) -> str:
    match = _PACKAGE.search(source)
    return match.group(1) if match else ""


class _ChildRunner:
    """Runs tests in child processes until every test has a result."""

    def __init__(
        self, policy_set: PolicySet, test_modules: dict[str, str], scratch: Path, timeout: float
    ) -> None:
        self.policy_set = policy_set
        self.test_modules = test_modules
        self.scratch = scratch
        self.timeout = timeout
        self.children = 0
        self.hazards = find_hazards({**policy_set.modules, **test_modules})

    def run(self, tests: list[RegoTest]) -> list[RegoTestResult]:
        all_modules = {**self.policy_set.modules, **self.test_modules}
        results, compile_failure = self._resume(tests, all_modules)
        if compile_failure is None:
            return results
        # The set died while compiling, before any test ran: find out which file does it.
        pending = [t for t in tests if t.name not in {r.name for r in results}]
        if self._child([], self.policy_set.modules)[2] is not None:
            why = f"compiling the policy modules {compile_failure}{self._hint(None)}"
            return results + [_failed(t, why) for t in pending]
        for file in dict.fromkeys(t.file for t in pending):
            file_tests = [t for t in pending if t.file == file]
            modules = {**self.policy_set.modules, file: self.test_modules[file]}
            done, failure = self._resume(file_tests, modules)
            results.extend(done)
            if failure is not None:
                finished = {r.name for r in done}
                why = f"{failure} while compiling {file}{self._hint(file)}"
                results.extend(_failed(t, why) for t in file_tests if t.name not in finished)
        return results

    def _resume(
        self, tests: list[RegoTest], modules: dict[str, str]
    ) -> tuple[list[RegoTestResult], str | None]:
        """Run ``tests``, starting a fresh child after each crash; the second item says why
        a child died before running any test (then the remaining tests have no result)."""
        results: list[RegoTestResult] = []
        pending = list(tests)
        while pending:
            done, started, failure = self._child(pending, modules)
            results.extend(done)
            finished = {r.name for r in done}
            pending = [t for t in pending if t.name not in finished]
            if failure is None:
                break
            if started is None:
                return results, failure
            results.append(_failed(started, failure + self._hint(started.file)))
            pending = [t for t in pending if t.name != started.name]
        return results, None

    def _hint(self, file: str | None) -> str:
        """Known crash patterns in ``file`` (or in the policy modules when ``None``)."""
        files = [file] if file is not None else sorted(self.policy_set.modules)
        found = [f"{name}: {problem}" for name in files for problem in self.hazards.get(name, [])]
        return f"; likely cause: {'; '.join(found)}" if found else ""

    def explain(
        self, tests: list[RegoTest], results: Mapping[str, RegoTestResult]
    ) -> dict[str, RegoTestResult]:
        """Better messages for the undefined ``tests``: which statement failed, and what
        its sides were (one more child, evaluating probes beside the tests)."""
        undefined = [t for t in tests if results[t.name].message == UNDEFINED]
        modules = {**self.policy_set.modules, **self.test_modules}
        probes: list[tuple[RegoTest, Probe]] = []
        for number, file in enumerate(dict.fromkeys(t.file for t in undefined)):
            source = self.test_modules[file]
            file_tests = [t for t in undefined if t.file == file]
            bodies = {t.rule: body for t in file_tests if (body := statements_of(source, t.rule))}
            if not bodies:
                continue
            text, file_probes = probe_module(file_tests[0].package, source, bodies, f"f{number}_")
            modules[f"{file}.probe-{number}.rego"] = text
            by_rule = {t.rule: t for t in file_tests}
            probes += [(by_rule[probe.test], probe) for probe in file_probes]
        if not probes:
            return {}
        points = [RegoTest(t.package, rule, t.file) for t, p in probes for rule in p.rules]
        values = self._values(points, modules, self.policy_set.data)
        if values is None:
            return {}
        better = {}
        for test, probe in probes:
            found = {rule: values[f"{test.package}.{rule}"] for rule in probe.rules}
            message = explain_failure(probe, {k: v for k, v in found.items() if v is not None})
            if message is not None:
                better[test.name] = replace(results[test.name], message=message)
        return better

    def start_without_data(self, tests: list[RegoTest]) -> tuple[subprocess.Popen[str], Path]:
        """Start running ``tests`` without the set's data, beside the main run."""
        modules = {**self.policy_set.modules, **self.test_modules}
        job, events = self._job(tests, modules, {})
        return _start_child(job, events), events

    def data_warnings(
        self,
        started: tuple[subprocess.Popen[str], Path],
        tests: list[RegoTest],
        results: Mapping[str, RegoTestResult],
    ) -> dict[str, RegoTestResult]:
        """Warnings for the tests that passed here but failed without the set's data."""
        process, events = started
        _wait_child(process, self.timeout)
        failed_without = set()
        for line in events.read_text(encoding="utf-8").splitlines():
            event = json.loads(line)
            if event["event"] == "error":
                return {}
            if event["event"] == "result" and not event["passed"]:
                failed_without.add(tests[event["index"]].name)
        names = ", ".join(f"data.{key}" for key in sorted(self.policy_set.data))
        warning = (
            f"passes only with {names}, which policy-engine gives the tests (from PE_CATALOG)"
            " and a bare `opa test` does not: give the test its own, e.g."
            " `with data.catalog.endpoints as [...]`"
        )
        return {
            name: replace(results[name], warning=warning)
            for name in failed_without
            if results[name].passed
        }

    def _values(
        self, points: list[RegoTest], modules: dict[str, str], data: Mapping[str, Any]
    ) -> dict[str, Any] | None:
        """What each rule in ``points`` evaluates to (None: undefined); None when the child
        did not finish."""
        job, events = self._job(points, modules, data, values=True)
        if _wait_child(_start_child(job, events), self.timeout) is not None:
            return None
        found: dict[str, Any] = {}
        for line in events.read_text(encoding="utf-8").splitlines():
            event = json.loads(line)
            if event["event"] == "error":
                return None
            if event["event"] == "result":
                defined = event.get("defined", False)
                found[points[event["index"]].name] = event.get("value") if defined else None
        return found

    def _job(
        self,
        tests: list[RegoTest],
        modules: dict[str, str],
        data: Mapping[str, Any],
        *,
        values: bool = False,
    ) -> tuple[Path, Path]:
        """Write a child's job file; returns it and the (empty) events file."""
        self.children += 1
        job_path = self.scratch / f"job-{self.children}.json"
        events_path = self.scratch / f"events-{self.children}.jsonl"
        job = {
            "modules": modules,
            "data": dict(data),
            "tests": [[t.package, t.rule] for t in tests],
            "base": str(self.policy_set.directory),
            "values": values,
        }
        job_path.write_text(json.dumps(job), encoding="utf-8")
        events_path.touch()
        return job_path, events_path

    def _child(
        self, tests: list[RegoTest], modules: dict[str, str]
    ) -> tuple[list[RegoTestResult], RegoTest | None, str | None]:
        """Run one child: (results, test running when it died, why it died)."""
        job_path, events_path = self._job(tests, modules, self.policy_set.data)
        failure = _run_child(job_path, events_path, self.timeout)
        results: list[RegoTestResult] = []
        started: RegoTest | None = None
        for line in events_path.read_text(encoding="utf-8").splitlines():
            event = json.loads(line)
            if event["event"] == "error":
                return [_failed(t, event["message"]) for t in tests], None, None
            test = tests[event["index"]]
            if event["event"] == "start":
                started = test
            else:
                started = None
                results.append(
                    RegoTestResult(
                        name=test.name,
                        file=test.file,
                        passed=bool(event["passed"]),
                        message=str(event["message"]),
                        duration_ms=float(event["duration_ms"]),
                    )
                )
        return results, started, failure


def _run_child(
    job: Path, events: Path, timeout: float, module: str = "policy_engine.policy.rego_child"
) -> str | None:
    """Run the child ``module``; ``None`` when it exited normally, else why it did not."""
    return _wait_child(_start_child(job, events, module), timeout)


def _start_child(
    job: Path, events: Path, module: str = "policy_engine.policy.rego_child"
) -> subprocess.Popen[str]:
    command = [sys.executable, "-m", module, str(job), str(events)]
    package_root = str(Path(__file__).resolve().parents[2])
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [package_root, env.get("PYTHONPATH")]))
    return subprocess.Popen(
        command,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def _wait_child(process: subprocess.Popen[str], timeout: float) -> str | None:
    """Wait for a child; ``None`` when it exited normally, else why it did not."""
    try:
        _, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()
        return f"timed out after {timeout:g} s"
    if process.returncode == 0:
        return None
    if process.returncode < 0:
        number = -process.returncode
        try:
            label = signal.Signals(number).name
        except ValueError:
            label = "unknown"
        return f"crashed (signal {number}: {label})"
    last = stderr.strip().splitlines()[-1:] or ["no output"]
    return f"test process exited with status {process.returncode}: {last[0][:300]}"


def _failed(test: RegoTest, message: str) -> RegoTestResult:
    return RegoTestResult(name=test.name, file=test.file, passed=False, message=message)


# ---------------------------------------------------------------------------- command line


def main(argv: Sequence[str] | None = None) -> int:
    """Run the Rego tests of a directory; print PASS/FAIL lines and a summary."""
    parser = argparse.ArgumentParser(
        prog="python -m policy_engine.policy.rego_tests",
        description="Run the Rego unit tests (test_* rules in *_test.rego) of a policy directory.",
    )
    parser.add_argument("directory", nargs="?", default="policies", type=Path)
    parser.add_argument("--data", type=Path, help="a JSON file with the data document")
    parser.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT, help="seconds per child")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    try:
        data = json.loads(args.data.read_text(encoding="utf-8")) if args.data else {}
        results = run_rego_tests(args.directory, data, timeout=args.timeout)
    except (OSError, ValueError, PolicyLoadError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if not results:
        print(f"error: no Rego tests (test_* rules in *_test.rego) under {args.directory}")
        return 2
    for result in results:
        if result.passed:
            print(f"PASS {result.name} ({result.duration_ms:.0f} ms)")
        else:
            print(f"FAIL {result.name} ({result.file}): {result.message}")
    failed = sum(not r.passed for r in results)
    files = len({r.file for r in results})
    elapsed = time.perf_counter() - started
    print(
        f"{len(results) - failed} passed, {failed} failed"
        f" ({len(results)} tests in {files} files, {elapsed:.1f} s)"
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
