"""Presidio is imported without its unused transformers back-end, in a fresh interpreter
(as a worker starts), and transformers stays importable for code that wants it."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys

PROBE = """
import json, sys
from policy_engine.lean_imports import import_presidio
import_presidio()
from presidio_analyzer.nlp_engine import NlpEngineProvider
state = {
    "presidio": "presidio_analyzer.nlp_engine" in sys.modules,
    "transformers_loaded": "transformers" in sys.modules,
}
import_presidio()  # a second call changes nothing
state["loaded_after_second_call"] = "transformers" in sys.modules
try:
    import transformers
    state["importable_afterwards"] = True
except ImportError:
    state["importable_afterwards"] = False
print(json.dumps(state))
"""


def probe() -> dict[str, bool]:
    done = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=300, check=True
    )
    result: dict[str, bool] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def test_presidio_loads_without_transformers() -> None:
    state = probe()
    assert state["presidio"]
    assert not state["transformers_loaded"]
    assert not state["loaded_after_second_call"]


def test_transformers_is_importable_afterwards_exactly_when_installed() -> None:
    # transformers comes with the eval extra only: without it, the import fails as usual;
    # with it, the marks that hid it from Presidio are gone.
    installed = importlib.util.find_spec("transformers") is not None
    assert probe()["importable_afterwards"] is installed
