"""Presidio's regex recognizers, each pattern searched only where a prefilter allows.

:func:`pattern_results` is ``PatternRecognizer.analyze`` step by step (Presidio 2.2:
match, validate, invalidate, score, explanation, drop minimum scores, remove contained
duplicates) with the one change that pattern ``i`` is searched with
:func:`~policy_engine.detection.windows.finditer` in ``windowings[i]``. Recognizers that
override ``analyze`` are not handled here: they run as they are, and those whose results
all come from matches of their patterns (the IBAN recognizer, :func:`gated_only`) are
skipped where none of their patterns can match.
A pattern that runs out of time is skipped, as Presidio does, and logged without text.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import regex
from presidio_analyzer import EntityRecognizer, PatternRecognizer, RecognizerResult
from presidio_analyzer.pattern_recognizer import REGEX_TIMEOUT_SECONDS
from presidio_analyzer.predefined_recognizers import IbanRecognizer

from policy_engine.detection.results import recognizer_result
from policy_engine.detection.windows import Windowing, finditer
from policy_engine.logs import get_logger

log = get_logger(__name__)


def handles(recognizer: EntityRecognizer) -> bool:
    """Whether ``recognizer`` is a Presidio pattern recognizer with Presidio's ``analyze``."""
    return (
        isinstance(recognizer, PatternRecognizer)
        and type(recognizer).analyze is PatternRecognizer.analyze
    )


def gated_only(recognizer: EntityRecognizer) -> bool:
    """Whether ``recognizer`` has an ``analyze`` of its own whose results all come from
    matches of its patterns: it cannot be windowed, but need not run where none of its
    patterns can match."""
    return isinstance(recognizer, IbanRecognizer)


def regexes(recognizer: PatternRecognizer) -> list[tuple[str, int]]:
    """``(source, flags)`` of each pattern of ``recognizer``, in order."""
    found: Any = recognizer  # Presidio's attributes are untyped
    flags = int(found.global_regex_flags or 0)
    return [(pattern.regex, flags) for pattern in found.patterns]


def pattern_results(
    recognizer: PatternRecognizer, text: str, windowings: Sequence[Windowing | None]
) -> list[RecognizerResult]:
    """``recognizer.analyze(text)``, pattern ``i`` searched in ``windowings[i]`` only."""
    rec: Any = recognizer  # Presidio's attributes are untyped
    flags = rec.global_regex_flags
    results: list[RecognizerResult] = []
    for pattern, windowing in zip(rec.patterns, windowings, strict=True):
        if not pattern.compiled_regex or pattern.compiled_with_flags != flags:
            pattern.compiled_with_flags = flags
            pattern.compiled_regex = regex.compile(pattern.regex, flags=flags)
        try:
            matches = finditer(
                pattern.compiled_regex, text, windowing, timeout=REGEX_TIMEOUT_SECONDS
            )
            for match in matches:
                start, end = match.span()
                current_match = text[start:end]
                if current_match == "":
                    continue
                score = pattern.score
                validation_result = rec.validate_result(current_match)
                description = rec.build_regex_explanation(
                    rec.name, pattern.name, pattern.regex, score, validation_result, flags
                )
                result = recognizer_result(
                    rec.supported_entities[0],
                    start,
                    end,
                    score,
                    description,
                    name=rec.name,
                    identifier=rec.id,
                )
                if validation_result is not None:
                    result.score = (
                        EntityRecognizer.MAX_SCORE
                        if validation_result
                        else EntityRecognizer.MIN_SCORE
                    )
                invalidation_result = rec.invalidate_result(current_match)
                if invalidation_result is not None and invalidation_result:
                    result.score = EntityRecognizer.MIN_SCORE
                if result.score > EntityRecognizer.MIN_SCORE:
                    results.append(result)
                description.score = result.score
        except TimeoutError:
            log.warning("pattern_timeout", recognizer=rec.name, pattern=pattern.name)
    return list(EntityRecognizer.remove_duplicates(results))
