"""Why a span was reported: the pattern, the score before and after context, the check.

Used by ``policy-engine scan --explain``. An :class:`ExplainedSpan` is a
:class:`~policy_engine.models.DetectedSpan` plus what Presidio's ``AnalysisExplanation``
records; like every span it never holds the matched value.
"""

from __future__ import annotations

from typing import Any

from presidio_analyzer import RecognizerResult

from policy_engine.models import DetectedSpan


class ExplainedSpan(DetectedSpan):
    """A span with the reasons for its score."""

    #: Name of the regex (YAML ``patterns[].name`` or Presidio's), None for NER and heuristics.
    pattern: str | None = None
    #: Score of the pattern before context words.
    original_score: float | None = None
    #: What a context word near the match added to the score.
    context_boost: float = 0.0
    #: The recognizer's context word that was found (a configured word, not content).
    context_word: str | None = None
    #: ``passed`` when a checksum or plausibility check accepted the value, else ``none``.
    validation: str = "none"


def explanation_fields(result: RecognizerResult) -> dict[str, Any]:
    """The :class:`ExplainedSpan` fields from a result's analysis explanation."""
    explanation = result.analysis_explanation
    if explanation is None:
        return {}
    original = float(explanation.original_score)
    # Presidio's checksum recognizers (cards, IBANs) raise a validated match to 1.0 before
    # context words are looked at; what context added is measured from there.
    validated_max = explanation.validation_result and not str(explanation.recognizer).startswith(
        "yaml:"
    )
    before_context = 1.0 if validated_max else original
    return {
        "pattern": explanation.pattern_name or None,
        "original_score": round(original, 4),
        "context_boost": round(float(result.score) - before_context, 4),
        "context_word": explanation.supportive_context_word or None,
        "validation": "passed" if explanation.validation_result else "none",
    }


def span_of(
    result: RecognizerResult, *, category: str, detector: str, explain: bool, offset: int = 0
) -> DetectedSpan:
    """The span a recognizer's result reports (``offset`` added to its positions), with
    its explanation when ``explain``; the score at most 1, rounded to 4 places."""
    fields: dict[str, Any] = {
        "type": result.entity_type,
        "category": category,
        "start": result.start + offset,
        "end": result.end + offset,
        "score": round(min(1.0, float(result.score)), 4),
        "detector": detector,
    }
    if explain:
        return ExplainedSpan(**fields, **explanation_fields(result))
    return DetectedSpan.model_construct(**fields)  # fields typed above: no validation
