"""Context scoring without a model: regex tokens, and the bisecting token lookup."""

from __future__ import annotations

import random

import pytest
from presidio_analyzer.context_aware_enhancers import LemmaContextAwareEnhancer

from policy_engine.detection.context import IndexedContextEnhancer
from policy_engine.detection.tokens import RegexTokenNlpEngine


def test_regex_tokens_keep_offsets_and_lower_case_lemmas() -> None:
    text = "My SSN: 536-22-8190, thanks"
    artifacts = RegexTokenNlpEngine().process_text(text, "en")
    words = [token.text for token in artifacts.tokens]
    assert words == ["My", "SSN", ":", "536", "-", "22", "-", "8190", ",", "thanks"]
    assert [text[i : i + len(w)] for i, w in zip(artifacts.tokens_indices, words, strict=True)] == (
        words
    )
    assert artifacts.lemmas[:2] == ["my", "ssn"]
    assert "my" not in artifacts.keywords and "ssn" in artifacts.keywords  # stop words out
    assert ":" not in artifacts.keywords  # punctuation out
    assert artifacts.entities == []


def test_token_lookup_agrees_with_presidio() -> None:
    rng = random.Random(7)
    alphabet = "ab1 ,.-\n@"
    for _ in range(200):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 60)))
        artifacts = RegexTokenNlpEngine().process_text(text, "en")
        if not artifacts.tokens_indices:
            continue
        last = artifacts.tokens_indices[-1]
        for start in range(last + 1):
            expected = LemmaContextAwareEnhancer._find_index_of_match_token(
                "w", start, artifacts.tokens, artifacts.tokens_indices
            )
            assert (
                IndexedContextEnhancer._find_index_of_match_token(
                    "w", start, artifacts.tokens, artifacts.tokens_indices
                )
                == expected
            ), (text, start)


def test_token_lookup_error_names_no_text() -> None:
    artifacts = RegexTokenNlpEngine().process_text("short", "en")
    with pytest.raises(ValueError) as caught:
        IndexedContextEnhancer._find_index_of_match_token(
            "secret-value", 99, artifacts.tokens, artifacts.tokens_indices
        )
    assert "secret-value" not in str(caught.value)
