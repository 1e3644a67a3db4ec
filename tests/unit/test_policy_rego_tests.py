"""The Rego test runner: discovery, crash bookkeeping (with a fake child), command line."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from policy_engine.policy import PolicySet, RegoTest, discover_tests, rego_tests, run_tests

MODULE = "package segmentation\n\ndecision := 1\n"
PASSING = "package demo_test\n\ntest_one if {\n\t1 == 1\n}\n"


def policy_set(test_modules: dict[str, str]) -> PolicySet:
    return PolicySet(
        directory=Path("/nowhere"),
        modules={"segmentation.rego": MODULE},
        test_modules=test_modules,
        data={},
        revision="sha256:0",
    )


def test_discovery_reads_packages_and_test_rules() -> None:
    tests = discover_tests(
        {
            "b_test.rego": "package b_test # tests\n\ntest_z if true\n\ntest_a if true\n"
            "\ntest_z if false\n",
            "a/a_test.rego": "package seg_test.rules.a\n\ntest_x if {\n\ttest_y := 1\n}\n"
            "\ntodo_test_later if true\n\nhelper_test_x := 1\n",
            "nopackage_test.rego": "test_orphan if true\n",
        }
    )
    assert [(t.name, t.file) for t in tests] == [
        ("seg_test.rules.a.test_x", "a/a_test.rego"),
        ("b_test.test_z", "b_test.rego"),
        ("b_test.test_a", "b_test.rego"),
    ]


def test_test_package_under_segmentation_rules_fails_and_is_not_loaded(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    loaded: list[list[str]] = []

    def child(job_path: Path, events_path: Path, timeout: float) -> str | None:
        job = json.loads(job_path.read_text())
        loaded.append(sorted(job["modules"]))
        with events_path.open("a") as events:
            for index in range(len(job["tests"])):
                event = {"event": "result", "index": index, "passed": True}
                events.write(json.dumps({**event, "message": "", "duration_ms": 1.0}) + "\n")
        return None

    monkeypatch.setattr(rego_tests, "_run_child", child)
    misplaced = "package segmentation.rules.x_test\n\ntest_a if true\n"
    results = run_tests(policy_set({"x_test.rego": misplaced, "good_test.rego": PASSING}))
    by_name = {r.name: r for r in results}
    assert not by_name["segmentation.rules.x_test.test_a"].passed
    assert "segmentation_test.rules" in by_name["segmentation.rules.x_test.test_a"].message
    assert by_name["demo_test.test_one"].passed
    assert loaded == [["good_test.rego", "segmentation.rego"]]


FakeChild = Callable[[Path, Path, float], "str | None"]


def fake_child(crash: Callable[[dict[str, str], str | None], bool], calls: list[int]) -> FakeChild:
    """A child that passes every test, but dies where ``crash(modules, test)`` says:
    at compile time (test ``None``) or when it starts that test."""

    def run(job_path: Path, events_path: Path, timeout: float) -> str | None:
        job = json.loads(job_path.read_text())
        calls.append(len(job["tests"]))
        if crash(job["modules"], None):
            return "crashed (signal 6: SIGABRT)"
        with events_path.open("a") as events:
            for index, (_, name) in enumerate(job["tests"]):
                events.write(json.dumps({"event": "start", "index": index}) + "\n")
                if crash(job["modules"], name):
                    return "crashed (signal 11: SIGSEGV)"
                event = {"event": "result", "index": index, "passed": True}
                events.write(json.dumps({**event, "message": "", "duration_ms": 1.0}) + "\n")
        return None

    return run


def test_crash_during_a_test_fails_it_and_the_rest_run_on(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []
    monkeypatch.setattr(
        rego_tests, "_run_child", fake_child(lambda _, test: test == "test_boom", calls)
    )
    source = "package demo_test\n\n" + "".join(
        f"{name} if true\n\n" for name in ["test_a", "test_boom", "test_c", "test_d"]
    )
    results = run_tests(policy_set({"demo_test.rego": source}))
    assert [(r.name, r.passed) for r in results] == [
        ("demo_test.test_a", True),
        ("demo_test.test_boom", False),
        ("demo_test.test_c", True),
        ("demo_test.test_d", True),
    ]
    assert results[1].message == "crashed (signal 11: SIGSEGV)"
    assert calls == [4, 2]  # one child for all, a second one for the two left


def test_compile_crash_is_narrowed_to_the_file(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []
    crashing = "package bad_test\n\ntest_b if { data.x with input as {} }\n"
    monkeypatch.setattr(
        rego_tests,
        "_run_child",
        fake_child(lambda modules, test: test is None and "bad_test.rego" in modules, calls),
    )
    results = run_tests(policy_set({"good_test.rego": PASSING, "bad_test.rego": crashing}))
    by_name = {r.name: r for r in results}
    assert by_name["demo_test.test_one"].passed
    message = by_name["bad_test.test_b"].message
    assert message.startswith("crashed (signal 6: SIGABRT) while compiling bad_test.rego")
    assert "likely cause: bad_test.rego: `with input as …`" in message
    assert calls == [2, 0, 1, 1]  # all, policy modules only, then each file


def test_compile_crash_of_the_policy_modules_fails_everything(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: list[int] = []
    monkeypatch.setattr(rego_tests, "_run_child", fake_child(lambda _, test: test is None, calls))
    results = run_tests(policy_set({"good_test.rego": PASSING}))
    assert [r.passed for r in results] == [False]
    assert results[0].message.startswith("compiling the policy modules crashed (signal 6")
    assert calls == [1, 0]


def test_load_error_fails_every_test_with_its_message(tmp_path: Path) -> None:
    (tmp_path / "segmentation.rego").write_text(MODULE)
    (tmp_path / "demo_test.rego").write_text(PASSING + "\ntest_two if {\n")
    results = rego_tests.run_rego_tests(tmp_path)
    assert [r.passed for r in results] == [False, False]
    assert {r.message.split(": ", 1)[0] for r in results} == {f"{tmp_path / 'demo_test.rego'}:7:13"}


def test_real_child_reports_pass_fail_and_values(tmp_path: Path) -> None:
    (tmp_path / "segmentation.rego").write_text(MODULE)
    (tmp_path / "demo_test.rego").write_text(
        PASSING + "\ntest_two if {\n\t1 == 2\n}\n\ntest_three := 3\n"
    )
    results = rego_tests.run_rego_tests(tmp_path, {"catalog": {"endpoints": []}})
    assert [(r.name, r.passed, r.message) for r in results] == [
        ("demo_test.test_one", True, ""),
        ("demo_test.test_two", False, "line 8: 1 == 2: got 1, expected 2"),
        ("demo_test.test_three", False, "failed (value 3)"),
    ]
    assert all(r.file == "demo_test.rego" for r in results)


def test_main_exit_codes_and_output(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "segmentation.rego").write_text(MODULE)
    (tmp_path / "demo_test.rego").write_text(PASSING)
    assert rego_tests.main([str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "PASS demo_test.test_one" in out
    assert "1 passed, 0 failed (1 tests in 1 files" in out

    (tmp_path / "demo_test.rego").write_text(PASSING + "\ntest_two if {\n\t1 == 2\n}\n")
    assert rego_tests.main([str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert "FAIL demo_test.test_two (demo_test.rego): line 8: 1 == 2: got 1, expected 2" in out
    assert "1 passed, 1 failed" in out


def test_main_without_tests_or_directory(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "segmentation.rego").write_text(MODULE)
    assert rego_tests.main([str(tmp_path)]) == 2
    assert "no Rego tests" in capsys.readouterr().out
    assert rego_tests.main([str(tmp_path / "missing")]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_rego_test_name() -> None:
    assert RegoTest(package="a.b", rule="test_c", file="f.rego").name == "a.b.test_c"
