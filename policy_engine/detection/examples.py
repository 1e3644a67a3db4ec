"""Run the ``examples`` of YAML recognizers against a detector.

Each recognizer may list texts it must report (``match``) and texts it must not
(``no_match``). They document the recognizer for its owners, and the test suite runs them
on both backends, so a change to a regex that breaks a stated example fails the build.
Examples are authored data, never request content, so failures may quote them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from policy_engine.detection.definitions import DetectorSet
from policy_engine.ports import Detector


@dataclass(frozen=True)
class ExampleFailure:
    """One example that did not behave as stated."""

    detector_id: str
    expected: Literal["match", "no_match"]
    example: str

    def __str__(self) -> str:
        verb = "should report" if self.expected == "match" else "should not report"
        return f"{self.detector_id} {verb} {self.example!r}"


def run_examples(detector: Detector, detector_set: DetectorSet) -> list[ExampleFailure]:
    """Every example of ``detector_set`` that ``detector`` gets wrong (empty: all pass).

    A ``match`` example passes when the recognizer itself reports its entity type in it;
    a ``no_match`` example passes when the recognizer reports nothing in it.
    """
    failures: list[ExampleFailure] = []
    for loaded in detector_set.recognizers:
        definition = loaded.definition
        for text in definition.examples.match:
            spans = detector.detect(text)
            if not any(
                s.detector == loaded.detector_id and s.type == definition.entity_type for s in spans
            ):
                failures.append(ExampleFailure(loaded.detector_id, "match", text))
        for text in definition.examples.no_match:
            if any(s.detector == loaded.detector_id for s in detector.detect(text)):
                failures.append(ExampleFailure(loaded.detector_id, "no_match", text))
    return failures
