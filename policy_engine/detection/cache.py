"""Per-text finding cache: a chat's history, re-sent with every request, is scanned once.

Gateways send the whole conversation with each request, so without a cache the n-th
request of a chat re-scans n-1 messages that were already scanned. :class:`FindingCache`
is a bounded LRU from (detector revision, content digest) to the spans found: types,
categories, offsets, scores and detector ids, never a value or the text itself (the key is
a BLAKE2b digest of the text, kept only in memory). :func:`detector_revision` digests the
detector files and the backend, so a different detector set never reads another's entries.
:class:`CachedDetector` puts the cache in front of any detector; both are thread-safe.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from policy_engine.detection.definitions import DetectorSet
from policy_engine.lru import DigestLRU, content_key
from policy_engine.models import DetectedSpan
from policy_engine.ports import Detector, StagedDetector, detect_in_stages

#: Default number of texts whose spans are kept (``PE_FINDING_CACHE_SIZE``).
DEFAULT_CACHE_SIZE = 4096


def detector_revision(detector_set: DetectorSet, backend: str) -> str:
    """A digest of the backend name and every detector file's name and bytes."""
    digest = hashlib.sha256(backend.encode())
    for path in detector_set.files:
        digest.update(b"\x00" + path.name.encode() + b"\x00" + path.read_bytes())
    return digest.hexdigest()[:16]


class FindingCache(DigestLRU[tuple[DetectedSpan, ...]]):
    """A thread-safe LRU of span lists, at most ``max_entries`` of them."""

    def __init__(self, max_entries: int = DEFAULT_CACHE_SIZE) -> None:
        super().__init__(max_entries)

    def put(self, key: bytes, spans: Sequence[DetectedSpan]) -> None:
        super().put(key, tuple(spans))


#: The one stage of a detector that is not staged.
WHOLE = "all"


class CachedDetector:
    """A :class:`~policy_engine.ports.StagedDetector` that asks ``cache`` before ``detector``.

    The stages are those of ``detector`` (a detector without stages has one, ``all``);
    each stage's spans are an entry of their own, so a text whose first stage was enough
    once is not scanned again by it when a later request needs the next stage. A failing
    scan is not cached (it raises through). Concurrent misses on one text may both scan
    it; they store the same spans.
    """

    def __init__(self, detector: Detector, cache: FindingCache, revision: str) -> None:
        self.detector = detector
        self.cache = cache
        self.revision = revision
        self._staged = detector if isinstance(detector, StagedDetector) else None
        self.stages: tuple[str, ...] = self._staged.stages if self._staged else (WHOLE,)

    def detect(self, text: str) -> list[DetectedSpan]:
        return detect_in_stages(self, text)

    def stage_entity_types(self, stage: str) -> tuple[str, ...]:
        if self._staged is not None:
            return self._staged.stage_entity_types(stage)
        return tuple(getattr(self.detector, "entity_types", ()))

    def detect_stage(
        self, stage: str, text: str, earlier: list[DetectedSpan]
    ) -> list[DetectedSpan]:
        key = content_key(f"{self.revision}:{stage}", text)
        cached = self.cache.get(key)
        if cached is not None:
            return [span.model_copy() for span in cached]
        if self._staged is not None:
            spans = self._staged.detect_stage(stage, text, earlier)
        elif stage == WHOLE:
            spans = self.detector.detect(text)
        else:
            raise ValueError(f"unknown detection stage {stage!r}")
        self.cache.put(key, [span.model_copy() for span in spans])
        return spans
