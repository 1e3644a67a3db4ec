"""docs/gateway.md shows the LiteLLM configs exactly as the tests run them
(examples/litellm/), and names the settings the code has."""

from __future__ import annotations

import re

from policy_engine.settings import PROJECT_ROOT

DOC = (PROJECT_ROOT / "docs" / "gateway.md").read_text(encoding="utf-8")
FILE_BLOCK = re.compile(r"```yaml\n# file: (\S+)\n(.*?)```", re.DOTALL)


def test_the_litellm_configs_in_the_docs_are_the_examples_the_tests_run() -> None:
    shown = dict(FILE_BLOCK.findall(DOC))
    examples = sorted((PROJECT_ROOT / "examples" / "litellm").glob("*.yaml"))
    assert {f"examples/litellm/{path.name}" for path in examples} == set(shown)
    for path in examples:
        assert shown[f"examples/litellm/{path.name}"] == path.read_text(encoding="utf-8")


def test_both_configs_check_before_the_call_on_every_call_with_a_timeout() -> None:
    for body in dict(FILE_BLOCK.findall(DOC)).values():
        assert "      mode: pre_call\n" in body
        assert "      default_on: true\n" in body
        assert re.search(r"\n      timeout: \d+", body)
