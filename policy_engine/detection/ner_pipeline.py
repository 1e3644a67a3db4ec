"""The spaCy pipeline cut down to what detection reads: named entities.

``en_core_web_sm`` runs ``tok2vec, tagger, parser, attribute_ruler, lemmatizer, ner``. The
``ner`` component embeds its own ``tok2vec`` (it does not listen to the shared one), so
its entities are the same with every other component disabled. Nothing else of spaCy's
analysis is read: context words near pattern matches are looked up in the pattern
stage's regex tokens, whose lemmas are the lower-cased words (:mod:`.tokens`), so
"phone" still matches "phones" but an irregular form ("drove") does not match its root.
"""

from __future__ import annotations

from spacy.language import Language

#: The components that keep running; every other one is disabled.
KEPT_COMPONENTS = ("ner",)


def reduce_pipeline(pipeline: Language) -> None:
    """Remove every component but NER (idempotent); their weights are freed (~15 MB)."""
    for name in list(pipeline.component_names):
        if name not in KEPT_COMPONENTS:
            pipeline.remove_pipe(name)
