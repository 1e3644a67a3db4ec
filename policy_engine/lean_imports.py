"""Import Presidio without the optional back-ends the engine never uses.

``presidio_analyzer`` imports HuggingFace ``transformers`` at import time whenever it is
installed (for its transformers NER engine), and ``transformers`` pulls in
``huggingface_hub`` and scans its own package tree: about 1.2 s of CPU at every start of a
worker, although detection only uses spaCy. It is installed wherever the ``eval`` extra is
(``make eval``). :func:`import_presidio` imports Presidio with those modules marked as
absent (a ``None`` entry in :data:`sys.modules` makes an import raise ImportError, which
Presidio treats as "not installed"), then removes the marks, so that code which does use
``transformers`` later imports it as usual.
"""

from __future__ import annotations

import importlib
import sys
import threading

#: Optional dependencies of Presidio that detection never uses.
UNUSED_BY_DETECTION = ("transformers",)
#: The Presidio modules that try those imports when they are loaded.
PRESIDIO_MODULES = ("presidio_analyzer", "presidio_analyzer.nlp_engine")

_lock = threading.Lock()


def import_presidio() -> None:
    """Load Presidio's modules without :data:`UNUSED_BY_DETECTION` (no-op once loaded)."""
    with _lock:
        if all(name in sys.modules for name in PRESIDIO_MODULES):
            return
        marked = [name for name in UNUSED_BY_DETECTION if name not in sys.modules]
        for name in marked:
            sys.modules[name] = None  # type: ignore[assignment]
        try:
            for name in PRESIDIO_MODULES:
                importlib.import_module(name)
        finally:
            for name in marked:
                if name in sys.modules and sys.modules[name] is None:
                    del sys.modules[name]
