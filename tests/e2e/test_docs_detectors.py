"""docs/detectors.md runs as written: its YAML files load and keep their examples, and its
console sessions print what the page shows."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from policy_engine.detection import PatternDetector, load_detector_set, run_examples
from tests.conftest import ROOT, run_cli

DOC = (ROOT / "docs" / "detectors.md").read_text(encoding="utf-8")
BLOCK = re.compile(r"```(\w+)\n(.*?)```", re.DOTALL)


def blocks(kind: str) -> list[str]:
    return [body for lang, body in BLOCK.findall(DOC) if lang == kind]


def sessions() -> list[tuple[str, list[str]]]:
    """(command, expected output lines) for every ``$`` line of the console blocks."""
    out: list[tuple[str, list[str]]] = []
    for body in blocks("console"):
        for line in body.splitlines():
            if line.startswith("$ "):
                out.append((line[2:], []))
            elif out:
                out[-1][1].append(line)
    return out


def test_yaml_examples_load_and_hold(tmp_path: Path) -> None:
    files = blocks("yaml")
    assert files
    for body in files:
        name = re.match(r"# file: (\S+\.yaml)\n", body)
        assert name, body[:40]
        (tmp_path / name.group(1)).write_text(body, encoding="utf-8")
    detector_set = load_detector_set(tmp_path)
    assert len(detector_set.recognizers) == 3
    assert run_examples(PatternDetector(detector_set), detector_set) == []


@pytest.mark.parametrize(("command", "expected"), sessions())
def test_console_sessions_print_what_the_page_shows(
    tmp_path: Path, command: str, expected: list[str]
) -> None:
    argv = shlex.split(command)
    assert argv[0] == "policy-engine"
    result = run_cli(tmp_path, *argv[1:])
    assert result.returncode == 0, result.stderr
    if expected:
        assert result.stdout.splitlines() == expected
    else:
        assert result.stdout.strip()
