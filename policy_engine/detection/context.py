"""Presidio's context enhancer, with the token of each match found by binary search.

Presidio raises a result's score when a context word of its recognizer stands among the
few words before it (``LemmaContextAwareEnhancer``). To find those words it looks for
the match's token with a linear scan over all tokens of the text, once per result: on
a 20 KB prompt with a couple of hundred results that scan is most of the analysis time.
:class:`IndexedContextEnhancer` finds the same token by bisection (token ends increase
along the text), and its error names no text. Scores are unchanged.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from presidio_analyzer.context_aware_enhancers import LemmaContextAwareEnhancer
from spacy.lang.en.stop_words import STOP_WORDS

from policy_engine.detection.tokens import TOKEN  # the tokens of RegexTokenNlpEngine


class IndexedContextEnhancer(LemmaContextAwareEnhancer):
    """``LemmaContextAwareEnhancer`` with an O(log n) token lookup."""

    @staticmethod
    def _find_index_of_match_token(
        word: str, start: int, tokens: Any, tokens_indices: Sequence[int]
    ) -> int:
        """Index of the first token that ends after ``start`` (the token holding it)."""
        low, high = 0, len(tokens_indices)
        while low < high:
            middle = (low + high) // 2
            if tokens_indices[middle] + len(tokens[middle]) > start:
                high = middle
            else:
                low = middle + 1
        if low == len(tokens_indices):
            raise ValueError("a match starts after the last token of the text")
        return low


# ------------------------------------------------------------------ context without a Doc

#: The settings of the enhancer the reference engine runs (Presidio's defaults).
ENHANCER_SETTINGS = IndexedContextEnhancer()
#: Words before the match token that count (Presidio's ``context_prefix_count``) ...
PREFIX_WORDS: int = ENHANCER_SETTINGS.context_prefix_count
#: ... and the first characters searched for them (doubled until enough words are seen).
_FIRST_WINDOW = 96


def _keyword(lemma: str) -> bool:
    """Whether ``lemma`` is among the keywords Presidio keeps (``NlpArtifacts.set_keywords``):
    not a stop word, not punctuation."""
    if lemma in STOP_WORDS or lemma == "be":
        return False
    return lemma.isalnum() or any(ch.isalnum() for ch in lemma)  # most words: one C call


def surrounding_words(text: str, start: int) -> set[str]:
    """The context words of a match at ``start``, as Presidio's enhancer collects them over
    a :class:`~policy_engine.detection.tokens.RegexTokenNlpEngine` tokenization of all of
    ``text``: the lower-cased keywords among the match token and the ones before it (at most
    ``PREFIX_WORDS + 1``), and the first keyword from the match token on. Only the text
    around ``start`` is tokenized.

    ValueError (as Presidio) when no token ends after ``start``.
    """
    window = _FIRST_WINDOW
    while True:
        low = max(0, start - window)
        before: list[str] = []  # lemmas of the tokens from `low` up to the match token
        match_token = None
        for token in TOKEN.finditer(text, low):
            if token.end() > start:
                match_token = token
                break
            before.append(token.group().lower())
        if match_token is None:
            raise ValueError("a match starts after the last token of the text")
        if low > 0:
            if not before:  # the match token itself may be cut by the window
                window *= 2
                continue
            before.pop(0)  # may be the tail of a word cut by the window
        lemmas = [*before, match_token.group().lower()]
        backward = [lemma for lemma in lemmas if _keyword(lemma)][-(PREFIX_WORDS + 1) :]
        if len(backward) == PREFIX_WORDS + 1 or low == 0:
            break
        window *= 2
    words = set(backward)
    for token in TOKEN.finditer(text, match_token.start()):
        lemma = token.group().lower()
        if _keyword(lemma):
            words.add(lemma)
            break
    return words


def find_context_word(
    text: str, start: int, context: Sequence[str], seen: dict[int, set[str]]
) -> str:
    """The first of ``context`` contained in a surrounding word of ``start`` ('' if none):
    Presidio's substring matching (``LemmaContextAwareEnhancer``). ``seen`` keeps the
    surrounding words by start for further calls on the same text (several results often
    start at one place)."""
    words = seen.get(start)
    if words is None:
        words = seen[start] = surrounding_words(text, start)
    for candidate in context:
        lowered = candidate.lower()
        if any(lowered in word for word in words):
            return candidate
    return ""
