"""An NLP engine with no model: regex tokens and lower-cased words as lemmas.

Presidio raises a pattern match's score when one of its recognizer's context words
appears among the few words before it (``LemmaContextAwareEnhancer``). That needs tokens
and lemmas, which normally come from the spaCy pipeline. :class:`RegexTokenNlpEngine`
gives the same enhancer what it needs without loading any model, so the ``patterns``
backend scores context the way the ``presidio`` backend does (up to lemmatization:
"cards" does not become "card" here). It finds no named entities.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import Any

from presidio_analyzer.nlp_engine import NlpArtifacts, NlpEngine
from spacy.lang.en.stop_words import STOP_WORDS
from spacy.tokens import Doc
from spacy.vocab import Vocab

#: A word or one punctuation character (the context words of the fast path use it too).
TOKEN = re.compile(r"\w+|[^\w\s]")


class RegexTokenNlpEngine(NlpEngine):
    """Tokenizes with a regular expression; lemmas are the lower-cased tokens."""

    engine_name = "regex_tokens"
    is_available = True

    def __init__(self, language: str = "en") -> None:
        self._language = language
        self._vocab = Vocab()

    def load(self) -> None:
        """Nothing to load."""

    def is_loaded(self) -> bool:
        return True

    def process_text(self, text: str, language: str) -> NlpArtifacts:
        """Tokens with their offsets, and their lower-cased forms as lemmas."""
        matches = list(TOKEN.finditer(text))
        words = [m.group() for m in matches]
        spaces = [m.end() < len(text) and text[m.end()].isspace() for m in matches]
        return NlpArtifacts(
            entities=[],
            tokens=Doc(self._vocab, words=words, spaces=spaces),
            tokens_indices=[m.start() for m in matches],
            lemmas=[word.lower() for word in words],
            nlp_engine=self,
            language=language,
            scores=[],
        )

    def process_batch(
        self,
        texts: Iterable[str],
        language: str,
        batch_size: int = 1,
        n_process: int = 1,
        as_tuples: bool = False,
        **kwargs: Any,
    ) -> Iterator[tuple[str, NlpArtifacts]]:
        for text in texts:
            yield text, self.process_text(text, language)

    def is_stopword(self, word: str, language: str) -> bool:
        return word.lower() in STOP_WORDS

    def is_punct(self, word: str, language: str) -> bool:
        return not any(ch.isalnum() for ch in word)

    def get_supported_entities(self) -> list[str]:
        return []

    def get_supported_languages(self) -> list[str]:
        return [self._language]
