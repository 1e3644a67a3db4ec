"""Detection: which sensitive spans a text contains (PII, secrets, IP markers, source code).

Detectors are data: ``detectors/*.yaml`` (see :mod:`.definitions` for the schema) switch
on Presidio built-ins and declare regex, deny-list and source-code recognizers. Two
backends implement :class:`~policy_engine.ports.Detector`:

* ``presidio`` (:class:`PresidioDetector`): Presidio with the spaCy model, so PERSON and
  LOCATION too;
* ``patterns`` (:class:`PatternDetector`): the same minus named entities, no model.

Both scan a normalized view of each text and the payloads encoded in it
(:mod:`.evasion`, :mod:`.normalize`, :mod:`.encoded`), drop implausible names and numbers
(:mod:`.plausibility`) and report spans in the original text's offsets; ``explain`` adds
the pattern, score, context boost and validation of each (:mod:`.explain`).

Neither touches the network. Importing this package is cheap; Presidio and spaCy load
when a detector is built.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from policy_engine.detection.definitions import DetectorSet
from policy_engine.detection.describe import DetectorInfo, describe_detectors
from policy_engine.detection.examples import ExampleFailure, run_examples
from policy_engine.detection.loader import load_detector_set
from policy_engine.errors import ConfigError
from policy_engine.lean_imports import import_presidio
from policy_engine.logs import ensure_library_logging

if TYPE_CHECKING:
    from policy_engine.detection.patterns_detector import PatternDetector
    from policy_engine.detection.prefilter_store import PrefilterStore
    from policy_engine.detection.presidio_detector import PresidioDetector
    from policy_engine.ports import Detector

__all__ = [
    "BACKENDS",
    "DetectorInfo",
    "DetectorSet",
    "ExampleFailure",
    "PatternDetector",
    "PresidioDetector",
    "build_detector",
    "build_detector_with_revision",
    "describe_detectors",
    "load_detector_set",
    "run_examples",
]


def _presidio(detector_set: DetectorSet, store: PrefilterStore | None) -> Detector:
    from policy_engine.detection.presidio_detector import PresidioDetector

    return PresidioDetector(detector_set, store=store)


def _patterns(detector_set: DetectorSet, store: PrefilterStore | None) -> Detector:
    from policy_engine.detection.patterns_detector import PatternDetector

    return PatternDetector(detector_set, store=store)


#: Detection backends by name (``PE_DETECTION_BACKEND``), each built from a detector set
#: and where to keep its compiled prefilter (None: compile it every time).
BACKENDS: dict[str, Callable[[DetectorSet, PrefilterStore | None], Detector]] = {
    "presidio": _presidio,
    "patterns": _patterns,
}


def build_detector(
    detectors_dir: Path,
    backend: str = "presidio",
    *,
    cache_size: int = 0,
    compiled_cache_dir: Path | None = None,
) -> Detector:
    """Load and validate ``detectors_dir`` and build the named backend on it.

    With ``cache_size`` > 0 the detector answers repeated texts from a
    :class:`~.cache.FindingCache` of that many entries, keyed by the detector revision.
    With ``compiled_cache_dir``, the compiled pattern prefilter is kept there and reused
    by the next start (:class:`~.prefilter_store.PrefilterStore`).
    """
    detector, _ = build_detector_with_revision(
        detectors_dir, backend, cache_size=cache_size, compiled_cache_dir=compiled_cache_dir
    )
    return detector


def build_detector_with_revision(
    detectors_dir: Path,
    backend: str = "presidio",
    *,
    cache_size: int = 0,
    compiled_cache_dir: Path | None = None,
) -> tuple[Detector, str]:
    """:func:`build_detector`, and the revision of the detector set and backend it runs
    (:func:`~.cache.detector_revision`), which every decision records."""
    from policy_engine.detection.cache import CachedDetector, FindingCache, detector_revision

    ensure_library_logging()  # never stray log lines on a host application's stdout
    import_presidio()  # without the transformers back-end: about 1 s of start-up
    try:
        factory = BACKENDS[backend]
    except KeyError:
        raise ConfigError(
            f"detection backend {backend!r}: unknown; choose one of {', '.join(sorted(BACKENDS))}"
        ) from None
    detector_set = load_detector_set(detectors_dir)
    revision = detector_revision(detector_set, backend)
    store = None
    if compiled_cache_dir is not None:
        from policy_engine.detection.prefilter_store import PrefilterStore

        store = PrefilterStore(compiled_cache_dir)
    detector = factory(detector_set, store)
    if cache_size <= 0:
        return detector, revision
    return CachedDetector(detector, FindingCache(cache_size), revision), revision


def __getattr__(name: str) -> Any:
    # The detector classes import Presidio (and with it spaCy): load them on first use.
    if name == "PresidioDetector":
        from policy_engine.detection.presidio_detector import PresidioDetector

        return PresidioDetector
    if name == "PatternDetector":
        from policy_engine.detection.patterns_detector import PatternDetector

        return PatternDetector
    raise AttributeError(f"module 'policy_engine.detection' has no attribute {name!r}")
