"""The prefilter's windowed search yields exactly what a full ``finditer`` yields.

Patterns of every kind the fallbacks and windows must handle: bounded and unbounded,
lookaheads and lookbehinds, value groups, case-insensitive scopes, Unicode properties,
deny-list alternations, and patterns hyperscan cannot compile (a named back reference)
or Python cannot measure. Texts are generated from a small alphabet so that matches touch,
overlap and sit at window edges, on long lines and across lines.
"""

from __future__ import annotations

import random

import pytest
import regex

from policy_engine.detection import load_detector_set
from policy_engine.detection.definitions import REGEX_FLAGS, PatternRecognizerDef
from policy_engine.detection.prefilter import (
    Prefilter,
    Windowing,
    _start_consumed,
    bounded_windows,
    finditer,
    measure,
)
from policy_engine.detection.recognizers import YamlPatternRecognizer, build_recognizer
from policy_engine.settings import PROJECT_ROOT

PATTERNS: list[tuple[str, int]] = [
    (r"\b\d{3}-\d{2}-\d{4}\b", REGEX_FLAGS),
    (r"(?<![\w-])(?:TCK|tck)-(?P<value>\d{4,8})\b", REGEX_FLAGS),
    (r"\bSECRET(?:\s+KEY)?\s+ONLY\b", REGEX_FLAGS),
    (r"(?i)token\s*[:=]\s*(?P<value>[a-z0-9]{6,})", REGEX_FLAGS),
    (r"ab+c(?=\d{2})", REGEX_FLAGS),
    (r"(?i:key)[ \t]*=[ \t]*(?-i:[A-Z]\w+)", REGEX_FLAGS),
    (r"\p{Lu}[\p{Ll}]+ \p{Lu}\w*", REGEX_FLAGS),
    (r"(?<tag>[a-c])x(?P=tag)", REGEX_FLAGS),  # hyperscan rejects the back reference
    (r"(\d)\1{3}", REGEX_FLAGS),
    (r"a.*?z", REGEX_FLAGS),
    (r"[^\s]+@[^\s]+\.[a-z]{2,}", REGEX_FLAGS | regex.IGNORECASE),
    (r"(?:^|(?<=\W))(foo|foo bar|bar)(?:(?=\W)|$)", REGEX_FLAGS | regex.IGNORECASE),
    (r"x{2,}$", REGEX_FLAGS),
    (r"(?s)BEGIN.{0,40}END", REGEX_FLAGS),
    (r"\d+(?!\d|-)", REGEX_FLAGS),
    (r"(?:^|(?<=\n))Maria\b", REGEX_FLAGS),  # leading lookbehind: consumed for hyperscan
    (r"(?i)(?:^|(?<=[.!?][ \t]))secret\b", REGEX_FLAGS),
    (r"(?im)^[^\p{L}\n]*secret\b(?=[^\p{L}\n]*$|\s*[-:])", REGEX_FLAGS),  # gated
    (r"\b(?:Hi|Dear)[ \t]+(?P<value>\p{Lu}\p{Ll}+)(?=[ \t]*[,:])", REGEX_FLAGS),  # gated
]

ALPHABET = [
    "a", "b", "c", "x", "z", "k", "K", "e", "y", "=", " ", " ", "\t", "\n", "-", "@", ".",
    "0", "1", "2", "3", "9", "TCK-", "tck-12345", "SECRET", " KEY", " ONLY", "token:",
    "Token = ", "abbbc12", "Maria Keller", "foo", "bar", "foo bar", "xxx", "BEGIN", "END",
    "536-22-8190", "1111", "ops@example.com", "Maria Keller", "SECRET KEY ONLY", "kEy = Abc",
    "ab tck-1234 ", "foo bar.", "a-c", "bxb", "token=abc123def", "BEGIN x END",
    "secret", "SECRET -", "Hi ", "Dear ", "Maria", ",", ":", "#", ". ", "! ", "?\t",
]  # fmt: skip


def spans(matches: object) -> list[tuple[int, int, tuple[int, int] | None]]:
    out = []
    for match in matches:  # type: ignore[attr-defined]
        value = match.span("value") if "value" in match.re.groupindex else None
        out.append((*match.span(), value))
    return out


@pytest.fixture(scope="module")
def prefilter() -> Prefilter:
    return Prefilter(PATTERNS)


def test_unsupported_patterns_fall_back_to_full_search(prefilter: Prefilter) -> None:
    assert prefilter.reaches[7] is None  # named back reference: hyperscan cannot compile it
    assert prefilter.gated[7] is False
    assert measure(r"a{,3}", REGEX_FLAGS) is None  # read differently by Python's parser
    assert measure(r"(?=\w+)a", REGEX_FLAGS) is None  # unbounded lookahead
    assert prefilter.windowed >= len(PATTERNS) - 4


def test_patterns_with_unbounded_lookaheads_are_gated(prefilter: Prefilter) -> None:
    gated = [key for key, on in enumerate(prefilter.gated) if on]
    assert gated == [len(PATTERNS) - 2, len(PATTERNS) - 1]
    assert all(prefilter.reaches[key] is None for key in gated)
    hits = prefilter.scan("nothing to see here, Maria")
    assert hits is not None
    assert [hits.windowing(key) for key in gated] == [Windowing(()), Windowing(())]
    hits = prefilter.scan("Dear Maria,\n-- secret: x")
    assert hits is not None
    assert [hits.windowing(key) for key in gated] == [None, None]  # searched whole


def shipped_patterns() -> list[tuple[str, str, tuple[str, int]]]:
    """(detector id, pattern name, (source, flags)) of every shipped YAML pattern, deny
    lists named "deny list"."""
    out: list[tuple[str, str, tuple[str, int]]] = []
    for loaded in load_detector_set(PROJECT_ROOT / "detectors").recognizers:
        recognizer = build_recognizer(loaded)
        if isinstance(recognizer, YamlPatternRecognizer):
            definition = loaded.definition
            names = (
                [p.name for p in definition.patterns]
                if isinstance(definition, PatternRecognizerDef)
                else ["deny list"] * len(recognizer.regexes)
            )
            out += [
                (loaded.detector_id, name, source)
                for name, source in zip(names, recognizer.regexes, strict=True)
            ]
    return out


def test_a_leading_line_start_lookbehind_is_consumed_for_hyperscan() -> None:
    assert _start_consumed(r"(?:^|(?<=\\n))[ \t]*X") == r"(?:^|\\n)[ \t]*X"
    assert _start_consumed(r"(?i)(?:^|(?<=[.!?][ \t]))Y") == r"(?i)(?:^|[.!?][ \t])Y"
    for unchanged in (r"(?:^|(?<=(a|b)))Z", r"a(?:^|(?<=\n))b", r"(?<=\n)Z", r"(?:^|(?<!x))Z"):
        assert _start_consumed(unchanged) == unchanged


def test_a_name_line_pattern_is_not_reported_inside_a_line() -> None:
    """Hyperscan drops lookbehinds: without consuming the line start, the name-line
    pattern of ``pii/person_cue`` was reported wherever two capitalised words meet, and
    then searched over the whole text."""
    sources = [
        source for detector, _, source in shipped_patterns() if detector == "yaml:pii/person_cue"
    ]
    key = next(
        i for i, (pattern, _) in enumerate(sources) if pattern.startswith(r"(?:^|(?<=\\n))[ \t]*")
    )
    prefilter = Prefilter(sources)
    assert prefilter.gated[key]
    hits = prefilter.scan("please call Laura Bennett at the office, then Marcus Whitfield.")
    assert hits is not None and hits.windowing(key) == Windowing(())
    hits = prefilter.scan("Laura Bennett\\n1420 Harbor View Road")
    assert hits is not None and hits.windowing(key) is None  # searched whole, as before


def test_non_ascii_texts_are_searched_whole(prefilter: Prefilter) -> None:
    assert prefilter.scan("Grüße von Maria") is None
    assert prefilter.scan("a\x1cb") is None
    assert prefilter.scan("plain ascii") is not None


@pytest.mark.parametrize("seed", range(60))
def test_windowed_search_equals_full_search(prefilter: Prefilter, seed: int) -> None:
    rng = random.Random(seed)
    pieces = [rng.choice(ALPHABET) for _ in range(rng.randint(1, 400))]
    if seed % 3 == 0:
        pieces.insert(rng.randrange(len(pieces)), "q" * rng.randint(50, 400))  # long filler
    if seed % 10 == 0:
        pieces.insert(rng.randrange(len(pieces)), "ÄÖ")
    text = "".join(pieces)
    hits = prefilter.scan(text)
    if not text.isascii():
        assert hits is None
        return
    assert hits is not None
    for key, (pattern, flags) in enumerate(PATTERNS):
        compiled = regex.compile(pattern, flags)
        windowed = spans(finditer(compiled, text, hits.windowing(key)))
        assert windowed == spans(compiled.finditer(text)), pattern


#: Shipped patterns that are gated rather than windowed (their lookaheads are unbounded),
#: by detector and pattern name; each is searched whole in a text where hyperscan reports
#: it. A pattern that joins this list costs a full regex search of every such prompt.
SHIPPED_GATED = {
    ("yaml:markings/classification_phrase", "label at line start"),
    ("yaml:markings/proprietary_notice", "proprietary label"),
    ("yaml:pii/person_cue", "greeting before a name"),
    ("yaml:pii/person_cue", "speaker at the start of a line of dialogue"),
    ("yaml:pii/person_cue", "name line over an address, a company or a job title"),
    ("yaml:secrets/private_key", "private key header on its own line, then content"),
    ("yaml:secrets/keyword_assignment", "name ending in key, api or signature, then a long value"),
}
#: Shipped patterns hyperscan cannot compile (a back reference): searched whole always.
SHIPPED_WHOLE = {("yaml:secrets/keyword_assignment", "xml element")}


def test_shipped_patterns_are_windowed_unless_listed() -> None:
    shipped = shipped_patterns()
    names = [(detector, name) for detector, name, _ in shipped]
    prefilter = Prefilter([source for _, _, source in shipped])
    gated = {names[key] for key, on in enumerate(prefilter.gated) if on}
    whole = {
        names[key]
        for key, reach in enumerate(prefilter.reaches)
        if reach is None and not prefilter.gated[key]
    }
    assert len(names) > 100
    assert (gated, whole) == (SHIPPED_GATED, SHIPPED_WHOLE)


def one_window_per_hit(
    ends: list[int], longest: int, span: int, length: int
) -> tuple[tuple[int, int, int], ...]:
    """The windows as first computed: one per hit end (sorted), each merged into the one
    before when it starts at or before that one's end."""
    single = [
        (max(0, end - longest), min(end + span, length), end if end + span < length else length)
        for end in ends
    ]
    out = [single[0]]
    for window in single[1:]:
        joins = window[0] <= out[-1][1]
        out = [*out[:-1], (out[-1][0], window[1], window[2])] if joins else [*out, window]
    return tuple(out)


@pytest.mark.parametrize("seed", range(20))
def test_bounded_windows_jump_to_the_same_windows(seed: int) -> None:
    rng = random.Random(seed)
    for _ in range(300):
        length = rng.randint(1, 400)
        ends = sorted({rng.randint(0, length) for _ in range(rng.randint(1, 60))})
        if rng.random() < 0.3:  # a dense run, as hyperscan reports digits
            start = rng.randint(0, length)
            ends = sorted(set(ends) | set(range(start, min(length, start + 40))))
        longest, ahead = rng.randint(0, 50), rng.randint(0, 20)
        expected = one_window_per_hit(ends, longest, longest + ahead, length)
        assert bounded_windows(ends, longest, longest + ahead, length) == expected
