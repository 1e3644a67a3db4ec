"""The fast analysis of the patterns backend against Presidio's engine (the reference).

``PatternDetector`` runs its recognizers on :class:`~policy_engine.detection.pattern_engine.
PatternEngine`; ``PatternDetector(..., reference=True)`` on Presidio's ``AnalyzerEngine``.
Both must report exactly the same spans (``detect``) and explanations (``explain``) on the
benchmark prompts, the hand-written evaluation cases and generated texts built to hit the
corners of the fast path: context words far before a match behind punctuation and stop
words, numbers of six and seven digits, phone extensions and trimmed candidates, long
lines, unicode, encoded payloads, and a user-written detector with context words.
"""

from __future__ import annotations

import base64
import random
import re
import shutil
import textwrap

import pytest
import yaml

from bench.workloads import chat_requests, single_prompts
from policy_engine.detection import PatternDetector, load_detector_set
from policy_engine.detection.context import surrounding_words
from policy_engine.detection.tokens import RegexTokenNlpEngine
from policy_engine.settings import PROJECT_ROOT

SHIPPED = PROJECT_ROOT / "detectors"

USER_DETECTOR = """\
recognizers:
  - id: ticket
    entity_type: TICKET_ID
    category: ip_marker
    patterns:
      - {name: ticket, regex: '(?<![\\w-])(?:TCK|tck)-(?P<value>\\d{4,8})\\b', score: 0.3}
      - {name: repeated, regex: '\\b(\\d)\\1{5}\\b', score: 0.2}
    context: [ticket, incident, case]
    negative_context: [example]
"""


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> tuple[PatternDetector, PatternDetector]:
    directory = tmp_path_factory.mktemp("detectors")
    for path in SHIPPED.glob("*.yaml"):
        shutil.copy(path, directory / path.name)
    (directory / "user.yaml").write_text(USER_DETECTOR, encoding="utf-8")
    detector_set = load_detector_set(directory)
    return PatternDetector(detector_set), PatternDetector(detector_set, reference=True)


def assert_same(pair: tuple[PatternDetector, PatternDetector], text: str) -> None:
    fast, reference = pair
    assert fast.detect(text) == reference.detect(text)
    assert fast.explain(text) == reference.explain(text)


def eval_texts() -> list[str]:
    texts = []
    for path in sorted((PROJECT_ROOT / "eval" / "cases").glob("*.yaml")):
        for case in yaml.safe_load(path.read_text(encoding="utf-8"))["cases"]:
            texts.append(re.sub(r"\[\[[A-Z_]+:(.*?)\]\]", r"\1", case["text"], flags=re.S))
    return texts


FRAGMENTS = [
    "call me at",
    "phone:",
    "my number is",
    "the",
    "and",
    "of",
    "it",
    "...",
    " - ",
    "!!!",
    "(415) 555-0198",
    "+1 646 555 0122",
    "555-0198",
    "555 01 98",
    "4155550198",
    "123456",
    "1234567",
    "2024",
    "3.5%",
    "$1,200",
    "415-555-0198 ext. 12",
    "415 555 0198 / x 12",
    "+44 20 7946 0958",
    "030 901820",
    "536-22-8190",
    "4111 1111 1111 1111",
    "card",
    "SSN",
    "ssn:",
    "IBAN DE89 3704 0044 0532 0130 00",
    "10.20.30.40",
    "maria@contoso.com",
    "ops (at) example (dot) com",
    "AKIAZ7QW3RT5LM2XNB4Y",
    "ghp_8fK2mQ9xLr4TvB7nWc1ZpD6sYh3JeA5uGo0i",
    "CONFIDENTIAL",
    "Project Bluefin",
    "ticket",
    "TCK-4821",
    "example TCK-99812",
    "111111",
    "\uff14\uff11\uff15\uff15\uff15\uff10\uff11\uff19\uff18",
    "telefon",
    "Straße",
    "\uff23\uff41\uff4c\uff4c",
    "\u200b",
    "Mr. Keller",
    "def f(x):",
    "    return x + 1",
    "license D1234567",
    "passport 912803456",
    "account 0012345678",
    "030 1234 ext 345 6789",
    "+49 30 12345 x 12 345 6789",
    "12 ext 345",
    "555 0198 / x 12 3456",
]


def generated_text(rng: random.Random) -> str:
    parts = []
    for _ in range(rng.randint(5, 120)):
        parts.append(rng.choice(FRAGMENTS))
        parts.append(rng.choice([" ", " ", "  ", "\n", ", ", ". ", " ... ", ";", "\t", "-"]))
    text = "".join(parts)
    if rng.random() < 0.3:
        inner = "".join(rng.choice(FRAGMENTS) + " " for _ in range(6))
        text += " blob " + base64.b64encode(inner.encode()).decode() + " end"
    if rng.random() < 0.2:
        text = "x" * rng.randint(100, 3000) + " phone " + text  # one long line
    return text


def test_bench_prompts_are_analyzed_identically(
    pair: tuple[PatternDetector, PatternDetector],
) -> None:
    texts = single_prompts({"200B": 5, "2KB": 10, "20KB": 2, "100KB": 1})
    for group in texts.values():
        for text in group:
            assert_same(pair, text)
    for request in chat_requests(turns=4):
        for message in request:
            assert_same(pair, message["content"])


def test_evaluation_cases_are_analyzed_identically(
    pair: tuple[PatternDetector, PatternDetector],
) -> None:
    texts = eval_texts()
    assert len(texts) > 50
    for text in texts:
        assert_same(pair, text)


@pytest.mark.parametrize("seed", range(40))
def test_generated_texts_are_analyzed_identically(
    pair: tuple[PatternDetector, PatternDetector], seed: int
) -> None:
    assert_same(pair, generated_text(random.Random(seed)))


def reference_words(text: str, start: int) -> set[str]:
    """Presidio's enhancer over the whole text's tokens (what :func:`surrounding_words`
    must equal)."""
    from presidio_analyzer.context_aware_enhancers import LemmaContextAwareEnhancer

    from policy_engine.detection.context import IndexedContextEnhancer

    artifacts = RegexTokenNlpEngine().process_text(text, "en")
    enhancer = IndexedContextEnhancer()
    assert isinstance(enhancer, LemmaContextAwareEnhancer)
    return set(enhancer._extract_surrounding_words(artifacts, text[start:], start))


@pytest.mark.parametrize(
    "text",
    [
        "phone " + "- " * 200 + "555-0198",
        "call " + "the and of it " * 60 + "then 555-0198 now",
        "x" * 500 + "555",
        "telephone:" + "!" * 150 + "4155550198 to to to the",
        textwrap.dedent("""\
            Contact
            (phone)

            415 555 0198 of the the"""),
    ],
)
def test_context_words_come_from_the_words_around_the_match(text: str) -> None:
    for start in sorted({m.start() for m in re.finditer(r"\d+|\w+", text)}):
        assert surrounding_words(text, start) == reference_words(text, start)


def test_a_match_after_the_last_token_is_an_error() -> None:
    with pytest.raises(ValueError):
        surrounding_words("phone 12   ", 9)


def test_reference_detector_is_presidio_engine(
    pair: tuple[PatternDetector, PatternDetector],
) -> None:
    fast, reference = pair
    assert type(fast._analyzer).__name__ == "PatternEngine"
    assert type(reference._analyzer).__name__ == "AnalyzerEngine"
    assert (fast.entity_types, fast.skipped_entities, fast.backend) == (
        reference.entity_types,
        reference.skipped_entities,
        reference.backend,
    )


SEPARATOR_TEXTS = [
    "j.doe (at) example (dot) com",
    "m.keller[at]contoso-mail[dot]com",
    "mkeller at contoso-mail dot com",
    "four one one one",
    "Four, one - one  ONE",
    "4 1 1 1 - 1 1 1 1",
    "4.1.1.1.1.1.1",
    "site dot com",
    "meet at noon at the office",
    "one two three",
    "plain prose without any of it",
]


def test_separator_gate_never_rules_out_a_separator() -> None:
    from policy_engine.detection.normalize import _SEPARATORS, _separators_gate

    gate = _separators_gate()
    rng = random.Random(7)
    texts = SEPARATOR_TEXTS + eval_texts() + [generated_text(rng) for _ in range(200)]
    words = ["at", "dot", "(", ")", "[", "]", "one", "four", "oh", "1", "2", "-", ".", "x"]
    texts += [" ".join(rng.choice(words) for _ in range(rng.randint(1, 30))) for _ in range(500)]
    ruled_out = 0
    for text in texts:
        if _SEPARATORS.search(text) is not None:
            assert gate.may_match(text), text
        elif not gate.may_match(text):
            ruled_out += 1
    assert ruled_out > 50  # and it does rule texts out
