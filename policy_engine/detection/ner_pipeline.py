"""The spaCy pipeline cut down to what detection reads: named entities and lemmas.

``en_core_web_sm`` runs ``tok2vec, tagger, parser, attribute_ruler, lemmatizer, ner``. The
``ner`` component embeds its own ``tok2vec`` (it does not listen to the shared one), so
its entities are the same with every other component disabled. Presidio reads only the
entities, the tokens and the lemmas (its context enhancer compares context words with
the lemmas of the words before a match, by substring). The rule lemmatizer needs the
tagger and the attribute ruler, about a third of the pipeline's time; here the lemmas are
the lower-cased words instead, as the ``patterns`` backend has always done
(:mod:`.tokens`): "phone" still matches "phones", an irregular form ("drove") no longer
matches its root.
"""

from __future__ import annotations

from spacy.language import Language
from spacy.tokens import Doc

#: The components that keep running; every other one is disabled.
KEPT_COMPONENTS = ("ner",)
LEMMA_COMPONENT = "pe_lower_case_lemmas"


@Language.component(LEMMA_COMPONENT)
def lower_case_lemmas(doc: Doc) -> Doc:
    """Set each token's lemma to its lower-cased text."""
    for token in doc:
        token.lemma_ = token.lower_
    return doc


def reduce_pipeline(pipeline: Language) -> None:
    """Disable every component but NER and add the lower-case lemmas after it (idempotent)."""
    for name in pipeline.pipe_names:
        if name not in KEPT_COMPONENTS and name != LEMMA_COMPONENT:
            pipeline.disable_pipe(name)
    if LEMMA_COMPONENT not in pipeline.pipe_names:
        pipeline.add_pipe(LEMMA_COMPONENT, last=True)
