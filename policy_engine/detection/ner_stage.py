"""The named-entity stage: spaCy's NER (PERSON, LOCATION, ...), and nothing else.

The ``presidio`` backend detects in two stages (:mod:`.presidio_detector`): the cheap
pattern stage first, this one second. Here spaCy's pipeline (NER only, see
:mod:`.ner_pipeline`) runs over the text and Presidio's ``SpacyRecognizer`` turns its
entities into results, with Presidio's own label mapping and scores. Like the pattern
stage it scans the normalized view and decoded payloads (:mod:`.evasion`) and drops
implausible names (:mod:`.plausibility`) and the hashtags, chat words, holidays and
products of informal text (:mod:`.informal`); names written in lower case after a cue
are shown to the model capitalised (:mod:`.lower_case_names`). PERSON spans come from
the rules of :mod:`.person_names` on the doc's entities (names cut to their edges,
name-shaped entities of other labels, repeats and lists of names, places reported as
LOCATION). The check
that needs the pattern stage's spans (a "name" inside a secret or a code block is no
name) is done when the stages are merged (:func:`merge_stage_spans`).

The model reads only the windows of a text that can hold a name or a place
(:mod:`.ner_windows`: capitalised words with a few tokens of context), unless the
detectors directory turns that off (``analysis.ner_windows: false``); the rules on its
entities then run over the whole text. Pieces are at most :data:`CHUNK_CHARS` characters
(a longer window is cut at a line or sentence end) and go to spaCy in batches of at most
that many characters: spaCy's working memory grows with what one call holds (about 300 MB
for 100 KB), not with the number of pieces.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import regex
from presidio_analyzer import RecognizerResult
from presidio_analyzer.nlp_engine import NlpArtifacts, SpacyNlpEngine
from presidio_analyzer.predefined_recognizers import SpacyRecognizer
from spacy.tokens import Doc, Span

from policy_engine.detection.builtins import NER_ENTITIES, NER_RECOGNIZER
from policy_engine.detection.definitions import DetectorSet
from policy_engine.detection.evasion import scan
from policy_engine.detection.explain import span_of
from policy_engine.detection.informal import not_a_name
from policy_engine.detection.lower_case_names import cased
from policy_engine.detection.ner_pipeline import dictionary
from policy_engine.detection.ner_windows import windows
from policy_engine.detection.person_names import NameSpan, is_place, person_spans
from policy_engine.detection.plausibility import filter_implausible
from policy_engine.detection.results import recognizer_result
from policy_engine.errors import DetectionError
from policy_engine.models import DetectedSpan

LANGUAGE = "en"
DETECTOR_ID = f"presidio:{NER_RECOGNIZER}"

#: The types that hashtags, chat words, holidays and products are taken for.
_NAMES_AND_PLACES = frozenset({"PERSON", "LOCATION"})
#: PII types whose spans hold the model's entities as pieces (dropped when merging).
CONTAINERS = frozenset({"STREET_ADDRESS"})
#: Longest piece of text given to spaCy at once.
CHUNK_CHARS = 10_000
#: How each PERSON rule of :mod:`.person_names` explains its span.
_RULE_EXPLANATIONS = {
    "model": "Identified as PERSON by Spacy's Named Entity Recognition",
    "edges": "Identified as PERSON by Spacy's NER, cut to the name",
    "label": "Shaped like a personal name, labelled otherwise by Spacy's NER",
    "repeat": "A word of a PERSON found elsewhere in the text",
    "list": "Listed with a PERSON found by Spacy's NER",
    "town": "A place by the words before it (a house number, 'flew to'), not a PERSON",
}
#: Where a piece may end, best first: a blank line, a line end, a sentence end, a blank.
_CUT_POINTS = (
    regex.compile(r"\n[ \t]*\n"),
    regex.compile(r"\n"),
    regex.compile(r"[.!?][\"')\]]*[ \t]+(?=[\"'(\[]*[A-Z0-9])"),
    regex.compile(r"[ \t]+"),
)


class NerStage:
    """Named entities of the types the detectors directory switched on."""

    def __init__(
        self,
        detector_set: DetectorSet,
        nlp_engine: SpacyNlpEngine,
        *,
        chunk_chars: int = CHUNK_CHARS,
    ) -> None:
        self.chunk_chars = chunk_chars
        analysis = detector_set.analysis
        #: Whether the model reads only the windows around candidates (``ner_windows``).
        self.windowed = analysis.ner_windows
        self._analysis = analysis
        self.entity_types: tuple[str, ...] = tuple(
            sorted(e for e in analysis.builtin_entities if e in NER_ENTITIES)
        )
        self._entities = list(self.entity_types)
        self.nlp_engine = nlp_engine
        self._pipeline = nlp_engine.get_nlp(LANGUAGE)
        self._recognizer = SpacyRecognizer(
            supported_language=LANGUAGE, supported_entities=self._entities
        )
        self._lock = threading.Lock()  # spaCy does not promise thread safety
        self._dictionary = dictionary(self._pipeline)

    def detect(self, text: str, covered: Sequence[tuple[int, int]] = ()) -> list[DetectedSpan]:
        """Entities in ``text``, its normalized view and decoded payloads (original offsets).

        ``covered``: spans of ``text`` whose names and places are dropped anyway (inside a
        secret, code or a street address, :func:`merge_stage_spans`): the model need not
        read their capitalised words when ``text`` is its own normalized view."""

        def analyze(view: str) -> list[DetectedSpan]:
            return self.analyze(view, covered=covered if view == text else ())

        return scan(text, analyze)

    def explain(self, text: str) -> list[DetectedSpan]:
        """Like :meth:`detect`, each span an :class:`ExplainedSpan`."""
        return scan(text, lambda view: self.analyze(view, explain=True))

    def analyze(
        self, text: str, *, explain: bool = False, covered: Sequence[tuple[int, int]] = ()
    ) -> list[DetectedSpan]:
        """Entities of ``text`` exactly as written, implausible names dropped; the model does
        not read the candidates inside ``covered`` (see :meth:`detect`)."""
        if not self._entities or not text.strip():
            return []
        # Lower-case names are shown to the model capitalised; offsets stay the same.
        view, capitalised = (
            cased(text, self._dictionary) if "PERSON" in self._entities else (text, [])
        )
        spans: list[DetectedSpan] = []
        for result in self._results(view, covered):
            if result.score < self._analysis.threshold(result.entity_type):
                continue
            if result.entity_type != "PERSON" and any(
                start < result.end and result.start < end for start, end in capitalised
            ):
                continue
            spans.append(span_of(result, category="pii", detector=DETECTOR_ID, explain=explain))
        spans.sort(key=lambda s: (s.start, s.end, s.type))
        return [
            span
            for span in filter_implausible(view, spans)
            if span.type not in _NAMES_AND_PLACES
            or not not_a_name(view, span.start, span.end, self._dictionary)
        ]

    def pieces(self, text: str, covered: Sequence[tuple[int, int]] = ()) -> list[tuple[int, str]]:
        """``(offset, piece)`` of ``text`` that the model reads: the windows around
        candidates outside ``covered`` (:mod:`.ner_windows`) or, with windows off, all of
        it; each at most :attr:`chunk_chars` long."""
        ranges = windows(text, covered=covered) if self.windowed else [(0, len(text))]
        return [
            (low + offset, piece)
            for low, high in ranges
            for offset, piece in chunks(text[low:high], self.chunk_chars)
            if piece.strip()
        ]

    def read_ranges(self, text: str) -> list[tuple[int, int]]:
        """The ``(start, end)`` ranges of ``text`` (one normalized view) the model reads, as
        :meth:`analyze` finds them (lower-case names after a cue count as capitalised)."""
        view = cased(text, self._dictionary)[0] if "PERSON" in self._entities else text
        return windows(view) if self.windowed else [(0, len(text))]

    def _results(self, text: str, covered: Sequence[tuple[int, int]]) -> list[RecognizerResult]:
        pieces = self.pieces(text, covered)
        if not pieces:
            return []
        results: list[RecognizerResult] = []
        entities: list[tuple[str, int, int]] = []
        try:
            with self._lock:
                for batch in _batches(pieces, self.chunk_chars):
                    # batch_size counts texts for spaCy but words for its NER component:
                    # the group is one batch either way (at most chunk_chars characters).
                    docs = self._pipeline.pipe(
                        [piece for _, piece in batch], batch_size=self.chunk_chars
                    )
                    for (offset, piece), doc in zip(batch, docs, strict=True):
                        artifacts = self._artifacts(doc)
                        for result in self._recognizer.analyze(piece, self._entities, artifacts):
                            result.start += offset
                            result.end += offset
                            results.append(result)
                        # doc.ents makes new spans on every call: these keep spaCy's own
                        # labels (Presidio renamed its copies).
                        entities += [
                            (e.label_, e.start_char + offset, e.end_char + offset) for e in doc.ents
                        ]
        except Exception as exc:  # spaCy's messages may quote the text: name the type only
            raise DetectionError(f"detector presidio: NER failed ({type(exc).__name__})") from None
        if "PERSON" not in self._entities:
            return results
        names = person_spans(text, entities, self._dictionary)
        towns: list[NameSpan] = []
        people: list[NameSpan] = []
        for name in names:
            (towns if is_place(text, name.start, name.end) else people).append(name)
        names = people
        relabelled = [(n.start, n.end) for n in names if n.rule == "label"]
        kept = [
            r
            for r in results
            if r.entity_type != "PERSON"
            and not any(s < r.end and r.start < e for s, e in relabelled)
        ]
        if "LOCATION" in self._entities:
            places = [(r.start, r.end) for r in kept if r.entity_type == "LOCATION"]
            kept += [
                self._result("LOCATION", town, "town")
                for town in towns
                if not any(s < town.end and town.start < e for s, e in places)
            ]
        return kept + [self._result("PERSON", name, name.rule) for name in names]

    def _artifacts(self, doc: Doc) -> NlpArtifacts:
        """What Presidio's ``SpacyRecognizer`` reads of a doc: its entities renamed and
        filtered by the engine's NER configuration, with their scores, exactly as
        ``SpacyNlpEngine.process_batch`` makes them; without the lemmas, token offsets and
        keywords that it also computes for every token and no recognizer here reads (1.6 ms
        per 2 KB of contact-dense prose)."""
        engine = self.nlp_engine
        entities, scores = engine._get_updated_entities(
            list(doc.ents), engine._get_scores_for_entities(doc)
        )
        return _EntitiesOnly(entities, scores)  # type: ignore[return-value]

    def _result(self, entity_type: str, name: NameSpan, rule: str) -> RecognizerResult:
        score = self._recognizer.ner_strength
        explanation = self._recognizer.build_explanation(score, _RULE_EXPLANATIONS[rule])
        return recognizer_result(
            entity_type,
            name.start,
            name.end,
            score,
            explanation,
            name=NER_RECOGNIZER,
            identifier=self._recognizer.id,
        )


@dataclass(frozen=True)
class _EntitiesOnly:
    """The part of Presidio's ``NlpArtifacts`` that ``SpacyRecognizer.analyze`` reads."""

    entities: list[Span]
    scores: list[float]


def _batches(pieces: Sequence[tuple[int, str]], limit: int) -> Iterator[Sequence[tuple[int, str]]]:
    """``pieces`` in consecutive groups of at most ``limit`` characters (a piece longer than
    that alone): spaCy's working memory follows what one call holds."""
    first, size = 0, 0
    for index, (_, piece) in enumerate(pieces):
        if size and size + len(piece) > limit:
            yield pieces[first:index]
            first, size = index, 0
        size += len(piece)
    if first < len(pieces):
        yield pieces[first:]


def chunks(text: str, limit: int) -> Iterator[tuple[int, str]]:
    """``(offset, piece)`` covering ``text`` in order, each piece at most ``limit`` long.

    A piece ends at the last blank line, line end, sentence end or blank before the
    limit (in that order of preference, looked for in the second half of the piece), so
    that a name is not cut in two; only a run of ``limit`` characters without any of them
    is cut hard.
    """
    start = 0
    while len(text) - start > limit:
        end = _cut(text, start, start + limit)
        yield start, text[start:end]
        start = end
    if start < len(text):
        yield start, text[start:]


def _cut(text: str, start: int, limit: int) -> int:
    middle = start + (limit - start) // 2
    for pattern in _CUT_POINTS:
        last = None
        for match in pattern.finditer(text, middle, limit):
            last = match
        if last is not None:
            return int(last.end())
    return limit


def covered_spans(earlier: Sequence[DetectedSpan]) -> list[tuple[int, int]]:
    """Where a name or place of a later stage is dropped by :func:`merge_stage_spans`."""
    return [(s.start, s.end) for s in earlier if s.category != "pii" or s.type in CONTAINERS]


def merge_stage_spans(
    earlier: Sequence[DetectedSpan], later: Sequence[DetectedSpan]
) -> list[DetectedSpan]:
    """The spans of two stages as one analysis would have reported them.

    A name or place inside a span of another category (a secret, a marking, source code)
    or inside a street address (whose street and town the model reports as pieces) is
    dropped, and of two spans of one type where one contains the other, the one with the
    lower score goes (on equal scores the shorter one), as Presidio does within one
    analysis.
    """
    others = covered_spans(earlier)
    kept_later = [
        span
        for span in later
        if not any(start <= span.start and span.end <= end for start, end in others)
    ]
    later_types = {span.type for span in kept_later}
    dropped: set[int] = set()
    for i, a in enumerate(earlier):
        if a.type not in later_types:
            continue
        for j, b in enumerate(kept_later):
            if a.type != b.type or not (a.start <= b.end and b.start <= a.end):
                continue
            if _outranks(a, b) and a.start <= b.start and b.end <= a.end:
                dropped.add(len(earlier) + j)
            elif _outranks(b, a) and b.start <= a.start and a.end <= b.end:
                dropped.add(i)
    merged = [s for i, s in enumerate([*earlier, *kept_later]) if i not in dropped]
    merged.sort(key=lambda s: (s.start, s.end, s.type))
    return merged


def _outranks(a: DetectedSpan, b: DetectedSpan) -> bool:
    """Whether ``a`` is kept over ``b`` when one contains the other (Presidio's order)."""
    return (-a.score, a.start, -(a.end - a.start)) <= (-b.score, b.start, -(b.end - b.start))
