"""What ``policy-engine test PATH… [--run REGEX]`` runs: which policy directory is loaded,
and which of its tests are selected.

A test needs the policy set it belongs to (a rule module's test may read other modules, and
YAML cases decide with the whole set), so a PATH inside the configured ``PE_POLICIES_DIR``
loads that directory; a PATH elsewhere loads the nearest directory, going up from it, that
holds the segmentation core (a module with ``package segmentation``) at its top level; failing
that, the PATH's own directory, which then has no core: :func:`core_location` says where the
configured one is. PATH may be a directory (every test file under it) or a test file
(``*_test.rego``, ``*_test.yaml``). ``--run`` keeps the tests whose name matches a regular
expression: a Rego test's ``package.rule`` (``segmentation_test.test_strictest_wins``), a YAML
case's ``file: case name``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from policy_engine.errors import ConfigError
from policy_engine.policy.loader import TEST_SUFFIX
from policy_engine.policy.yaml_load import is_case_file

CORE_PACKAGE = "segmentation"
_PACKAGE = re.compile(r"^package\s+([\w.]+)", re.MULTILINE)


@dataclass(frozen=True)
class TestTarget:
    """The policy directory to load and the paths under it whose tests run (relative POSIX
    paths: a file, or a directory prefix; empty: every test)."""

    root: Path
    paths: tuple[str, ...] = ()
    pattern: re.Pattern[str] | None = None

    def selects(self, file: str, name: str) -> bool:
        """Whether the test ``name`` of ``file`` (relative to the root) runs."""
        if self.paths and not any(_under(file, path) for path in self.paths):
            return False
        return self.pattern is None or self.pattern.search(name) is not None


def resolve_target(paths: Sequence[Path], configured: Path, run: str | None = None) -> TestTarget:
    """The target of ``policy-engine test PATHS --run RUN``; ``configured`` is PE_POLICIES_DIR.

    Raises :class:`ConfigError` for a missing path, a file that is not a test file, paths of
    two policy directories, or an invalid regular expression."""
    pattern = _compile(run)
    if not paths:
        return TestTarget(configured, (), pattern)
    roots: dict[Path, list[str]] = {}
    for path in paths:
        resolved = path.resolve()
        if not resolved.exists():
            raise ConfigError(f"{path}: no such file or directory")
        if resolved.is_file() and not (
            resolved.name.endswith(TEST_SUFFIX) or is_case_file(resolved.name)
        ):
            raise ConfigError(
                f"{path}: not a test file; give a *_test.rego or *_test.yaml file, or a directory"
            )
        root = _root_of(resolved, configured.resolve())
        relative = resolved.relative_to(root).as_posix()
        roots.setdefault(root, []).append("" if relative == "." else relative)
    if len(roots) > 1:
        raise ConfigError(
            "the paths belong to different policy directories ("
            + ", ".join(str(r) for r in roots)
            + "); test one at a time"
        )
    (root, relatives), *_ = roots.items()
    selected = () if "" in relatives else tuple(relatives)
    return TestTarget(root, selected, pattern)


def has_core(modules: dict[str, str]) -> bool:
    """Whether a loaded set holds the segmentation core."""
    return any(_package(source) == CORE_PACKAGE for source in modules.values())


def core_location(configured: Path, project_root: Path) -> Path | None:
    """The core module of the configured policy directory, else the shipped one."""
    for directory in (configured, project_root / "policies"):
        if directory.is_dir():
            for path in sorted(directory.rglob("*.rego")):
                if not path.name.endswith(TEST_SUFFIX) and _is_core(path):
                    return path
    return None


def _root_of(path: Path, configured: Path) -> Path:
    start = path if path.is_dir() else path.parent
    if start == configured or configured in start.parents:
        return configured
    for directory in (start, *start.parents):
        if any(_is_core(p) for p in directory.glob("*.rego") if p.is_file()):
            return directory
    return start


def _is_core(path: Path) -> bool:
    try:
        return _package(path.read_text(encoding="utf-8", errors="replace")) == CORE_PACKAGE
    except OSError:
        return False


def _package(source: str) -> str:
    match = _PACKAGE.search(source)
    return match.group(1) if match else ""


def _under(file: str, path: str) -> bool:
    return file == path or file.startswith(path.rstrip("/") + "/")


def _compile(run: str | None) -> re.Pattern[str] | None:
    if run is None:
        return None
    try:
        return re.compile(run)
    except re.error as exc:
        raise ConfigError(f"--run {run!r} is not a regular expression: {exc}") from None
