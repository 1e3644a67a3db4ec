"""Load a policy directory: Rego modules, their tests, the data they see, and a revision.

The revision is a content digest: it changes when any policy file (``.rego``, ``.yaml``,
``.yml``, ``.json``) or the data changes, and only then. Decisions and audit records carry
it, so an auditor can tell exactly which policy set produced a decision.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from policy_engine.errors import PolicyLoadError
from policy_engine.policy.yaml_compile import compile_policy, package_of
from policy_engine.policy.yaml_load import is_case_file, parse_policy

#: Files that make up a policy set; all of them count towards the revision.
POLICY_SUFFIXES = (".rego", ".yaml", ".yml", ".json")
TEST_SUFFIX = "_test.rego"
YAML_SUFFIXES = (".yaml", ".yml")
_PACKAGE = re.compile(r"^package\s+([\w.]+)", re.MULTILINE)


@dataclass(frozen=True)
class PolicySet:
    """A loaded policy directory. Paths are relative to ``directory``, in POSIX form."""

    directory: Path
    modules: dict[str, str]
    test_modules: dict[str, str]
    data: dict[str, Any]
    revision: str
    #: YAML test-case files (``*_test.yaml``): relative path → text.
    yaml_cases: dict[str, str] = field(default_factory=dict)
    #: Rule modules compiled from YAML policies: relative YAML path → package.
    yaml_policies: dict[str, str] = field(default_factory=dict)

    def path_of(self, relative: str) -> Path:
        """The file behind a module name, for messages."""
        return self.directory / relative


def load_policy_set(policies_dir: Path, data: Mapping[str, Any]) -> PolicySet:
    """Read every policy file under ``policies_dir`` (recursively) and digest it with ``data``.

    ``*.rego`` files are modules, ``*_test.rego`` files are Rego unit tests, ``*_test.yaml``
    files are YAML test cases, other ``*.yaml``/``*.yml`` files are YAML policies, compiled to
    Rego modules kept under their YAML path; files and directories whose name starts with a dot
    are ignored. Raises :class:`PolicyLoadError`,
    naming the path, when the directory is missing, holds no module, or a file cannot be read.
    """
    directory = Path(policies_dir)
    if not directory.is_dir():
        reason = "is not a directory" if directory.exists() else "does not exist"
        raise PolicyLoadError(f"{directory}: policy directory {reason}")
    canonical_data = canonical_json(data, what=f"{directory}: policy data")
    digest = hashlib.sha256()
    modules: dict[str, str] = {}
    test_modules: dict[str, str] = {}
    yaml_cases: dict[str, str] = {}
    yaml_policies: dict[str, str] = {}
    errors: list[str] = []
    for relative, path in _policy_files(directory):
        content = _read_bytes(path)
        digest.update(f"{relative}\0{len(content)}\0".encode())
        digest.update(content)
        if relative.endswith(".rego"):
            target = test_modules if relative.endswith(TEST_SUFFIX) else modules
            target[relative] = _decode(path, content)
        elif relative.endswith(YAML_SUFFIXES) and is_case_file(relative):
            yaml_cases[relative] = _decode(path, content)
        elif relative.endswith(YAML_SUFFIXES):
            try:
                policy = parse_policy(path, _decode(path, content))
            except PolicyLoadError as exc:
                errors.append(str(exc))
                continue
            modules[relative] = compile_policy(policy, relative)
            yaml_policies[relative] = package_of(policy)
    errors.extend(_package_clashes(directory, modules, yaml_policies))
    if errors:
        raise PolicyLoadError("\n".join(errors))
    if not modules:
        raise PolicyLoadError(f"{directory}: no Rego modules (*.rego other than *{TEST_SUFFIX})")
    digest.update(b"data\0")
    digest.update(canonical_data)
    return PolicySet(
        directory=directory,
        modules=modules,
        test_modules=test_modules,
        data=json.loads(canonical_data),
        revision=f"sha256:{digest.hexdigest()}",
        yaml_cases=yaml_cases,
        yaml_policies=yaml_policies,
    )


def _package_clashes(
    directory: Path, modules: Mapping[str, str], yaml_policies: Mapping[str, str]
) -> list[str]:
    """A YAML policy must not share its package with another module (rules would merge)."""
    owners: dict[str, list[str]] = {}
    for name, source in modules.items():
        match = _PACKAGE.search(source)
        if match is not None:
            owners.setdefault(match.group(1), []).append(name)
    return [
        f"{directory / relative}: package {package} is also declared in"
        f" {', '.join(str(directory / o) for o in owners[package] if o != relative)};"
        " give the YAML policy another name"
        for relative, package in sorted(yaml_policies.items())
        if len(owners.get(package, [])) > 1
    ]


def canonical_json(value: Any, *, what: str) -> bytes:
    """Sorted keys, compact separators, UTF-8: the bytes the revision is computed over."""
    try:
        text = json.dumps(
            value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
        )
    except (TypeError, ValueError) as exc:
        raise PolicyLoadError(f"{what} is not JSON ({type(exc).__name__})") from None
    return text.encode("utf-8")


def _policy_files(directory: Path) -> Iterator[tuple[str, Path]]:
    """Policy files in a stable order, as (relative POSIX path, path)."""
    found = []
    for path in directory.rglob("*"):
        relative = path.relative_to(directory)
        if any(part.startswith(".") for part in relative.parts):
            continue
        if path.suffix in POLICY_SUFFIXES and path.is_file():
            found.append((relative.as_posix(), path))
    return iter(sorted(found))


def _read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise PolicyLoadError(f"{path}: cannot read policy file ({exc.strerror})") from None


def _decode(path: Path, content: bytes) -> str:
    try:
        return content.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise PolicyLoadError(f"{path}: not UTF-8 text (byte {exc.start})") from None
