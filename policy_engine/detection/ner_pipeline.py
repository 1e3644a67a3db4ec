"""The spaCy pipeline cut down to what detection reads: named entities.

``en_core_web_sm`` runs ``tok2vec, tagger, parser, attribute_ruler, lemmatizer, ner``. The
``ner`` component embeds its own ``tok2vec`` (it does not listen to the shared one), so
its entities are the same with every other component disabled. Nothing else of spaCy's
analysis is read: context words near pattern matches are looked up in the pattern
stage's regex tokens, whose lemmas are the lower-cased words (:mod:`.tokens`), so
"phone" still matches "phones" but an irregular form ("drove") does not match its root.

One piece of the removed lemmatizer is kept: its word index (the English nouns, verbs,
adjectives and adverbs it knows, about 83,000 lower-case words), which tells a name from
a capitalised common word (:mod:`.person_names`). It is kept per pipeline, and freed with it.

The model's matrix products (:func:`use_numpy_blas`) go to numpy's BLAS (OpenBLAS, which
picks kernels for the CPU it runs on) instead of thinc's default, the ``blis`` package,
whose generic kernels measured 3.7 times slower on this project's machines (an AVX-512
server: 26 against 94 GFLOPS on one thread). The entities are the same; the model costs
a third less per token. OpenBLAS is held to one thread per call in the whole process
(:func:`one_blas_thread`): a request's matrices are a few hundred rows, and a thread per
core spent 1.8 times the CPU of one thread on them while taking cores from concurrent
requests. Where the BLAS threads cannot be limited, thinc's own products stay.
"""

from __future__ import annotations

import weakref

from spacy.language import Language
from thinc.api import NumpyOps
from threadpoolctl import threadpool_info, threadpool_limits

#: The components that keep running; every other one is disabled.
KEPT_COMPONENTS = ("ner",)
_LEMMATIZER = "lemmatizer"
_WORD_INDEX = "lemma_index"
#: The word index kept per pipeline (gone with the pipeline).
_DICTIONARIES: weakref.WeakKeyDictionary[Language, frozenset[str]] = weakref.WeakKeyDictionary()


def reduce_pipeline(pipeline: Language) -> None:
    """Remove every component but NER (idempotent); their weights are freed (~15 MB).

    The lemmatizer's word index is kept first (:func:`dictionary`)."""
    if pipeline not in _DICTIONARIES and _LEMMATIZER in pipeline.component_names:
        own = getattr(pipeline.get_pipe(_LEMMATIZER), "lookups", None)
        words: set[str] = set()
        if own is not None and own.has_table(_WORD_INDEX):
            for part_of_speech in own.get_table(_WORD_INDEX).values():
                words.update(part_of_speech)
        _DICTIONARIES[pipeline] = frozenset(words)
    for name in list(pipeline.component_names):
        if name not in KEPT_COMPONENTS:
            pipeline.remove_pipe(name)


def dictionary(pipeline: Language) -> frozenset[str]:
    """The English words kept by :func:`reduce_pipeline` (lower case; empty if none)."""
    return _DICTIONARIES.get(pipeline, frozenset())


def one_blas_thread() -> bool:
    """Hold every BLAS library loaded in the process (numpy's OpenBLAS) to one thread per
    call; whether there is one and it now runs on one thread."""
    threadpool_limits(limits=1, user_api="blas")
    blas = [pool for pool in threadpool_info() if pool.get("user_api") == "blas"]
    return bool(blas) and all(pool.get("num_threads") == 1 for pool in blas)


def use_numpy_blas(pipeline: Language) -> bool:
    """Route the matrix products of every component's model through numpy's BLAS, held to
    one thread (:func:`one_blas_thread`); whether it did (otherwise thinc's ``blis``
    products stay). The transition parser's own per-step products are compiled against
    ``blis`` and stay there (small: the loop's cost was spaCy's GIL handovers, gone below
    spaCy 3.8.8, docs/performance.md item 38)."""
    if not one_blas_thread():
        return False
    ops = NumpyOps(use_blis=False)
    for _, component in pipeline.pipeline:
        model = getattr(component, "model", None)
        if model is not None:
            for node in model.walk():
                node.ops = ops
    return True
