"""The URL-encoded branch of the payload search starts only where a stretch starts, and
finds exactly what the unanchored pattern finds."""

from __future__ import annotations

import random

import regex

from policy_engine.detection import encoded

UNANCHORED = regex.compile(encoded._HEX_OR_BASE64 + r"|(?P<url>[^\s%]*(?:%[0-9A-Fa-f]{2}[^\s%]*)+)")
PIECES = ["%41", "%2", "%zz", "%", " ", "\n", "a", "Zm9v", "==", "password=", "0f", "-", "/"]


def matches(pattern: regex.Pattern[str], text: str) -> list[tuple[str | None, int, int]]:
    return [(m.lastgroup, m.start(), m.end()) for m in pattern.finditer(text)]


def test_same_runs_as_the_unanchored_search_on_generated_texts() -> None:
    rng = random.Random(11)
    for _ in range(3000):
        text = "".join(rng.choice(PIECES) for _ in range(rng.randint(0, 40)))
        assert matches(encoded._CANDIDATES, text) == matches(UNANCHORED, text), text


def test_a_run_right_after_a_base64_candidate_is_still_found() -> None:
    text = "QUJDREVGR0hJSktMTU5PUA==%41%42c"
    found = matches(encoded._CANDIDATES, text)
    assert found == matches(UNANCHORED, text)
    assert [kind for kind, _, _ in found] == ["base64", "url"]


def test_a_long_stretch_with_one_percent_sign_is_decoded_once() -> None:
    text = "password=" * 2000 + " %41%42%43%44%45%46"
    payloads = encoded.find_payloads(text)
    assert [(p.encoding, p.text) for p in payloads] == [("url", "ABCDEF")]


RUN_PIECES = [
    "Zm9vYmFy", "QUJDREVGR0hJSktMTU5PUA==", "0f1e2d3c4b5a6978", "deadBEEF", "==", "=", "-",
    "_", "+", "/", " ", "\n", ".", ",", "é", "a", "Z", "9", "ghp_8fK2mQ9xLr4TvB7n",
]  # fmt: skip


def test_without_a_percent_sign_the_stretch_search_finds_the_same_candidates() -> None:
    rng = random.Random(5)
    for _ in range(3000):
        text = "".join(rng.choice(RUN_PIECES) for _ in range(rng.randint(0, 30)))
        fast = [(m.lastgroup, m.start(), m.end()) for m in encoded.candidates(text)]
        assert fast == matches(encoded._CANDIDATES, text), text
