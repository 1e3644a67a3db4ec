"""A line-based heuristic that finds source code in prose, and its Presidio recognizer.

Each line gets a score from code signals (:func:`~.code_lines.score_line`: statement
keywords, braces, assignments, operators, calls, identifiers, symbols; sentences and
bullets cost points). A run of at least ``min_lines`` code-like lines (blank and comment
lines may sit between them) is reported as one span; so is a single long line dense
enough on its own, and a fenced Markdown block (three backticks) whose language tag or
content says code.

The heuristic is pure (:func:`find_code_spans`); :class:`SourceCodeRecognizer` wraps it
for the analyzer. The line signals' names are re-exported here (``__all__``) for the
callers and tests that know them by this module.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from presidio_analyzer import AnalysisExplanation, LocalRecognizer, RecognizerResult
from presidio_analyzer.nlp_engine import NlpArtifacts

from policy_engine.detection.code_lines import (
    _CALL,
    _GATED_LINE_CHARS,
    _IDENTIFIER,
    _METHOD,
    _OPERATORS,
    _SYMBOLS,
    BULLET,
    _call_and_method,
    _count,
    _has_identifier,
    _may_match,
    _symbol_share,
    is_comment,
    score_line,
)
from policy_engine.detection.results import recognizer_result

__all__ = [
    "_CALL",
    "_GATED_LINE_CHARS",
    "_IDENTIFIER",
    "_METHOD",
    "_OPERATORS",
    "_SYMBOLS",
    "CodeHeuristic",
    "CodeSpan",
    "SourceCodeRecognizer",
    "_call_and_method",
    "_count",
    "_has_identifier",
    "_may_match",
    "_symbol_share",
    "find_code_spans",
    "score_line",
]

_FENCE = re.compile(r"^\s*(`{3,}|~{3,})\s*([\w+#.-]*)")
#: Fence tags that label data or prose rather than code.
_DATA_TAGS = "text txt plain plaintext output log logs console md markdown csv tsv json email quote"
_NON_CODE_TAGS = frozenset({"", *_DATA_TAGS.split(" ")})


@dataclass(frozen=True)
class CodeHeuristic:
    """Parameters of the heuristic (the ``kind: source_code`` fields of detector YAML)."""

    min_lines: int = 3
    line_threshold: float = 2.0
    dense_line_threshold: float = 5.5
    dense_line_min_chars: int = 40
    max_blank_lines: int = 2


@dataclass(frozen=True)
class CodeSpan:
    """Where code was found: character offsets, code-like lines, and how it was found."""

    start: int
    end: int
    code_lines: int
    how: str  # "run", "dense_line" or "fenced"


# --------------------------------------------------------------------------- spans


@dataclass
class _Line:
    start: int  # offset of the first character of the line
    text: str  # without the line break

    @property
    def content_start(self) -> int:
        return self.start + len(self.text) - len(self.text.lstrip())

    @property
    def content_end(self) -> int:
        return self.start + len(self.text.rstrip())


def _split_lines(text: str) -> list[_Line]:
    lines: list[_Line] = []
    offset = 0
    for raw in text.splitlines(keepends=True):
        body = raw.rstrip("\r\n")
        lines.append(_Line(offset, body))
        offset += len(raw)
    return lines


def find_code_spans(text: str, params: CodeHeuristic | None = None) -> list[CodeSpan]:
    """Every span of ``text`` that looks like source code, in order."""
    params = params or CodeHeuristic()
    lines = _split_lines(text)
    spans: list[CodeSpan] = []
    index = 0
    segment_start = 0
    while index < len(lines):
        fence = _FENCE.match(lines[index].text)
        if fence is None:
            index += 1
            continue
        spans.extend(_unfenced_spans(lines[segment_start:index], params))
        close = _closing_fence(lines, index, fence.group(1))
        body = lines[index + 1 : close]
        fenced = _fenced_span(lines, index, close, fence.group(2).lower(), body, params)
        if fenced is not None:
            spans.append(fenced)
        else:
            spans.extend(_unfenced_spans(body, params))
        index = close + 1
        segment_start = index
    spans.extend(_unfenced_spans(lines[segment_start:], params))
    return spans


def _closing_fence(lines: list[_Line], opening: int, marker: str) -> int:
    for index in range(opening + 1, len(lines)):
        if lines[index].text.strip().startswith(marker):
            return index
    return len(lines)


def _fenced_span(
    lines: list[_Line],
    opening: int,
    close: int,
    tag: str,
    body: list[_Line],
    params: CodeHeuristic,
) -> CodeSpan | None:
    """A fenced block is code if tagged with a language, or if one of its lines is code-like."""
    if not any(line.text.strip() for line in body):
        return None
    code_lines = _count_code_lines(body, params)
    if tag in _NON_CODE_TAGS and code_lines == 0:
        return None
    last = lines[close] if close < len(lines) else body[-1]
    return CodeSpan(lines[opening].content_start, last.content_end, max(code_lines, 1), "fenced")


def _count_code_lines(body: list[_Line], params: CodeHeuristic) -> int:
    count = 0
    in_block = False
    for line in body:
        stripped = line.text.strip()
        if not stripped or is_comment(stripped):
            continue
        in_block = score_line(line.text, in_block=in_block) >= params.line_threshold
        count += in_block
    return count


def _unfenced_spans(lines: list[_Line], params: CodeHeuristic) -> list[CodeSpan]:
    """Runs of code-like lines, and single dense lines outside any run."""
    spans: list[CodeSpan] = []
    run: list[_Line] = []  # code-like lines of the current run
    blanks = 0
    in_block = False

    def close_run() -> None:
        if len(run) >= params.min_lines:
            spans.append(CodeSpan(run[0].content_start, run[-1].content_end, len(run), "run"))
        elif run:
            spans.extend(dense for line in run if (dense := _dense(line, params)) is not None)
        run.clear()

    for line in lines:
        stripped = line.text.strip()
        if not stripped:
            blanks += 1
            if blanks > params.max_blank_lines:
                close_run()
                in_block = False
            continue
        blanks = 0
        if is_comment(stripped) and (in_block or not BULLET.match(stripped)):
            continue  # comments neither count nor break a run ("* x" is a bullet in prose)
        score = score_line(line.text, in_block=in_block)
        if score >= params.line_threshold:
            run.append(line)
            in_block = True
        elif in_block and line.text[:1] in (" ", "\t") and score > 0:
            continue  # a weak line inside an indented block: keep the run open
        else:
            close_run()
            in_block = False
    close_run()
    return spans


def _dense(line: _Line, params: CodeHeuristic) -> CodeSpan | None:
    if len(line.text.strip()) < params.dense_line_min_chars:
        return None  # a short fragment ("x = f();") is not worth a finding on its own
    if score_line(line.text) >= params.dense_line_threshold:
        return CodeSpan(line.content_start, line.content_end, 1, "dense_line")
    return None


# --------------------------------------------------------------------------- recognizer


class SourceCodeRecognizer(LocalRecognizer):
    """Presidio recognizer reporting :func:`find_code_spans` as one entity type."""

    def __init__(
        self,
        *,
        name: str,
        entity_type: str = "SOURCE_CODE",
        params: CodeHeuristic | None = None,
        score: float = 0.85,
        single_line_score: float = 0.6,
    ) -> None:
        self._detector_id = name
        self._entity_type = entity_type
        self._params = params or CodeHeuristic()
        self._score = score
        self._single_line_score = single_line_score
        super().__init__(supported_entities=[entity_type], name=name, supported_language="en")

    def load(self) -> None:
        """Nothing to load."""

    def analyze(
        self,
        text: str,
        entities: list[str],
        nlp_artifacts: NlpArtifacts | None = None,
    ) -> list[RecognizerResult]:
        """One result per code span."""
        entity_type = self._entity_type
        if entities and entity_type not in entities:
            return []
        results = []
        for span in find_code_spans(text, self._params):
            score = self._single_line_score if span.how == "dense_line" else self._score
            explanation = AnalysisExplanation(
                recognizer=self._detector_id,
                original_score=score,
                textual_explanation=f"{span.code_lines} code-like line(s) ({span.how})",
            )
            results.append(
                recognizer_result(
                    entity_type,
                    span.start,
                    span.end,
                    score,
                    explanation,
                    name=self._detector_id,
                    identifier=self.id,
                )
            )
        return results
