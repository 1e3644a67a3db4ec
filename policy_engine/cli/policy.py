"""The policy author's commands: ``test``, ``build``, ``lint``, ``explain``."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

import click

from policy_engine.cli.decide import decide_input_options, decide_once
from policy_engine.cli.support import fail, read_decide_request, settings_or_fail
from policy_engine.errors import ConfigError, PolicyEngineError
from policy_engine.settings import Settings

if TYPE_CHECKING:
    from policy_engine.policy.targets import TestTarget


def _catalog_data(settings: Settings) -> dict[str, object]:
    from policy_engine.catalog import load_catalog

    try:
        return {"catalog": load_catalog(settings.catalog).policy_data()}
    except ConfigError as exc:
        fail(str(exc))


def run_policy_tests(target: TestTarget, settings: Settings) -> int:
    """Run the selected Rego tests and YAML cases of ``target``; print PASS/FAIL lines, a
    warning under each test that a bare ``opa test`` would fail, and a summary.

    Exit status: 0 all passed, 1 a failure, 2 nothing to run or the set does not load.
    """
    from dataclasses import replace

    from policy_engine.policy import discover_tests, load_policy_set, run_tests
    from policy_engine.policy.targets import core_location, has_core
    from policy_engine.policy.yaml_cases import run_yaml_cases
    from policy_engine.settings import PROJECT_ROOT

    started = time.perf_counter()
    try:
        policy_set = load_policy_set(target.root, _catalog_data(settings))
    except PolicyEngineError as exc:
        click.echo(f"policy-engine: error: {exc}", err=True)
        return 2
    if not has_core(policy_set.modules):
        core = core_location(settings.policies_dir, PROJECT_ROOT)
        click.echo(
            f"policy-engine: warning: {target.root} has no segmentation core (a module with"
            " `package segmentation`): its rule modules are tested alone, and YAML cases and"
            " tests that read data.segmentation.decision cannot decide."
            + (
                f" The core is {core}: copy it into {target.root}, or put the module"
                f" under {core.parent}."
                if core
                else ""
            ),
            err=True,
        )
    rego = [t for t in discover_tests(policy_set.test_modules) if target.selects(t.file, t.name)]
    by_path, by_name = replace(target, pattern=None), replace(target, paths=())
    cases = {f: text for f, text in policy_set.yaml_cases.items() if by_path.selects(f, f)}
    failed = total = warned = 0
    for result in run_tests(policy_set, rego, check_data=True) if rego else []:
        total += 1
        if result.passed:
            click.echo(f"PASS {result.name} ({result.duration_ms:.0f} ms)")
        else:
            failed += 1
            click.echo(f"FAIL {result.name} ({result.file}): {result.message}")
        if result.warning:
            warned += 1
            click.echo(f"  warning: {result.warning}")
    for case in run_yaml_cases(replace(policy_set, yaml_cases=cases)) if cases else []:
        if not by_name.selects(case.file, f"{case.file}: {case.name}"):
            continue
        total += 1
        if case.passed:
            click.echo(f"PASS {case.file}: {case.name}")
        else:
            failed += 1
            click.echo(f"FAIL {case.file}: {case.name}: {case.describe()}")
    if total == 0:
        what = "no tests (*_test.rego, *_test.yaml)"
        if target.paths or target.pattern is not None:
            what = "no test matches"
        click.echo(f"policy-engine: error: {what} under {target.root}", err=True)
        return 2
    elapsed = time.perf_counter() - started
    warnings = f", {warned} warnings" if warned else ""
    click.echo(f"{total - failed} passed, {failed} failed{warnings} ({elapsed:.1f} s)")
    return 1 if failed else 0


@click.command("test")
@click.option(
    "--run",
    "-r",
    "run",
    default=None,
    metavar="REGEX",
    help="Run only the tests whose name matches: a Rego test's package.rule"
    " (e.g. 'segmentation_test.test_strictest_wins'), a YAML case's 'FILE: case name'.",
)
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
def test_policies(run: str | None, paths: tuple[Path, ...]) -> None:
    """Run the Rego unit tests (*_test.rego) and YAML test cases (*_test.yaml) of a policy
    directory (default PE_POLICIES_DIR) on the configured catalog (PE_CATALOG).

    PATHS may be directories or test files: their tests run with the whole policy set they
    belong to (PE_POLICIES_DIR when they lie in it, else the nearest directory above them
    holding the segmentation core). A failing Rego test names the statement that did not
    hold and what its sides were; a passing test that reads the catalog without giving
    its own gets a warning (a bare `opa test` has no catalog and fails it).
    """
    from policy_engine.policy.targets import resolve_target

    settings = settings_or_fail()
    try:
        target = resolve_target(paths, settings.policies_dir, run)
    except ConfigError as exc:
        fail(str(exc))
    sys.exit(run_policy_tests(target, settings))


@click.command()
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path("bundle.tar.gz"),
    show_default=True,
    help="Where to write the OPA bundle.",
)
@click.argument("directory", required=False, type=click.Path(path_type=Path))
def build(output: Path, directory: Path | None) -> None:
    """Compile a policy directory (default PE_POLICIES_DIR) with the catalog (PE_CATALOG) into
    a standard OPA bundle: .manifest with the revision, Rego modules (YAML compiled), data.json.
    """
    from policy_engine.policy import EmbeddedEvaluator, load_policy_set
    from policy_engine.policy.bundle import write_bundle

    settings = settings_or_fail()
    target = directory if directory is not None else settings.policies_dir
    try:
        policy_set = load_policy_set(target, _catalog_data(settings))
        EmbeddedEvaluator(policy_set)  # it must compile and decide before it ships
        size = write_bundle(policy_set, output)
    except PolicyEngineError as exc:
        fail(str(exc))
    click.echo(f"wrote {output} ({size} bytes, revision {policy_set.revision})")


@click.command()
@click.option(
    "--strict",
    is_flag=True,
    help="Count warnings as errors: exit 1 when there is any (for CI).",
)
@click.argument("directory", required=False, type=click.Path(path_type=Path))
def lint(strict: bool, directory: Path | None) -> None:
    """Report errors and warnings in a policy directory (default PE_POLICIES_DIR): unknown
    entity types (from PE_DETECTORS_DIR), rules that can never fire, endpoint attributes absent
    from the catalog (PE_CATALOG), unreachable segments. Exit 1 when there is an error (with
    --strict, also when there is a warning)."""
    from dataclasses import replace

    from policy_engine.catalog import load_catalog
    from policy_engine.detection import describe_detectors
    from policy_engine.detection.builtins import BUILTIN_ENTITIES
    from policy_engine.policy.lint import lint_directory

    settings = settings_or_fail()
    target = directory if directory is not None else settings.policies_dir
    try:
        catalog = load_catalog(settings.catalog)
        entity_categories: dict[str, set[str]] = {t: {"pii"} for t in BUILTIN_ENTITIES}
        for info in describe_detectors(settings.detectors_dir):
            for entity_type in info.entity_types:
                entity_categories.setdefault(entity_type, set()).add(info.category)
    except ConfigError as exc:
        fail(str(exc))
    problems = lint_directory(target, catalog, entity_categories)
    if strict:
        problems = [replace(p, level="error") for p in problems]
    for problem in problems:
        click.echo(str(problem))
    errors = sum(p.level == "error" for p in problems)
    note = " (--strict: warnings count as errors)" if strict else ""
    click.echo(f"{errors} errors, {len(problems) - errors} warnings in {target}{note}")
    sys.exit(1 if errors else 0)


@click.command()
@decide_input_options
def explain(text: str | None, file_: Path | None, messages: bool, context_json: str | None) -> None:
    """Decide (and audit) like `decide`, and print the decision with an explanation: the
    rules that fired with their messages, and why each endpoint is allowed or excluded."""
    from policy_engine.explain import explain as explain_decision

    decision, catalog = decide_once(read_decide_request(text, file_, messages, context_json))
    explanation = explain_decision(decision, catalog)
    body = {**decision.model_dump(mode="json"), "explanation": explanation.model_dump()}
    click.echo(json.dumps(body, indent=2))
