"""Detectors for tests of what the engine does when detection does not complete."""

from __future__ import annotations

import time

from policy_engine.models import DetectedSpan


class FailingNer:
    """A staged detector (patterns, then NER) whose NER stage outlives any short deadline
    (``how="times out"``: it sleeps a second) or raises (``how="fails"``); the pattern
    stage finds nothing."""

    stages = ("patterns", "ner")

    def __init__(self, how: str = "times out") -> None:
        self.how = how

    def detect(self, text: str) -> list[DetectedSpan]:
        raise AssertionError("the engine scans stage by stage")

    def detect_stage(
        self, stage: str, text: str, earlier: list[DetectedSpan]
    ) -> list[DetectedSpan]:
        if stage == "ner" and self.how == "fails":
            raise RuntimeError("the NER model failed")
        if stage == "ner":
            time.sleep(1.0)
        return []

    def stage_entity_types(self, stage: str) -> tuple[str, ...]:
        return ("PERSON",) if stage == "ner" else ()
