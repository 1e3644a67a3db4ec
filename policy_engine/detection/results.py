"""Presidio ``RecognizerResult``s as every recognizer of this package builds them."""

from __future__ import annotations

from presidio_analyzer import AnalysisExplanation, RecognizerResult


def recognizer_result(
    entity_type: str,
    start: int,
    end: int,
    score: float,
    explanation: AnalysisExplanation,
    *,
    name: str,
    identifier: str,
) -> RecognizerResult:
    """A result of recognizer ``name`` (its id ``identifier``) for ``[start, end)``."""
    return RecognizerResult(
        entity_type=entity_type,
        start=start,
        end=end,
        score=score,
        analysis_explanation=explanation,
        recognition_metadata={
            RecognizerResult.RECOGNIZER_NAME_KEY: name,
            RecognizerResult.RECOGNIZER_IDENTIFIER_KEY: identifier,
        },
    )
