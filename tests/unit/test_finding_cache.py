"""The finding cache on the real patterns backend: repeats are served from it, a changed
detector set never reads another's entries, entries hold spans and no text."""

from __future__ import annotations

import shutil
import threading
from pathlib import Path

from policy_engine.detection import build_detector, load_detector_set
from policy_engine.detection.cache import (
    CachedDetector,
    FindingCache,
    content_key,
    detector_revision,
)
from policy_engine.settings import PROJECT_ROOT

SHIPPED = PROJECT_ROOT / "detectors"
TEXT = "Use the key AKIAQ3EGRTXN4KDH7ZPM and write to dana.fischer@example.org please."


def test_a_repeated_text_is_served_from_the_cache() -> None:
    detector = build_detector(SHIPPED, backend="patterns", cache_size=8)
    assert isinstance(detector, CachedDetector)
    first = detector.detect(TEXT)
    assert {s.type for s in first} >= {"AWS_ACCESS_KEY", "EMAIL_ADDRESS"}
    assert (detector.cache.hits, detector.cache.misses) == (0, 1)
    second = detector.detect(TEXT)
    assert (detector.cache.hits, detector.cache.misses) == (1, 1)
    assert second == first
    second[0].start = -1  # a caller changing its copy does not change the cache
    assert detector.detect(TEXT) == first
    assert detector.detect(TEXT + " ") != [] and detector.cache.misses == 2


def test_changed_detectors_have_another_revision_and_miss(tmp_path: Path) -> None:
    directory = tmp_path / "detectors"
    shutil.copytree(SHIPPED, directory)
    cache = FindingCache(8)
    before = detector_revision(load_detector_set(directory), "patterns")
    plain = build_detector(directory, backend="patterns")
    CachedDetector(plain, cache, before).detect(TEXT)

    secrets_file = directory / "secrets.yaml"
    secrets_file.write_text(secrets_file.read_text().replace("AKIA", "AKIB"))
    after = detector_revision(load_detector_set(directory), "patterns")
    assert after != before
    assert detector_revision(load_detector_set(directory), "presidio") != after
    changed = CachedDetector(build_detector(directory, backend="patterns"), cache, after)
    spans = changed.detect(TEXT)
    assert (cache.hits, cache.misses) == (0, 2)
    assert "AWS_ACCESS_KEY" not in {s.type for s in spans}  # the new detectors' answer


def test_entries_are_bounded_and_hold_no_text() -> None:
    cache = FindingCache(2)
    detector = CachedDetector(build_detector(SHIPPED, backend="patterns"), cache, "r1")
    for index in range(5):
        detector.detect(f"{TEXT} #{index}")
    assert len(cache) == 2
    key = content_key("r1:all", f"{TEXT} #4")
    assert TEXT.encode() not in key and len(key) == 20
    cached = cache.get(key)
    assert cached is not None and all(not hasattr(s, "text") for s in cached)
    assert cache.get(content_key("r1:all", f"{TEXT} #0")) is None  # least recently used: gone


def test_size_zero_turns_the_cache_off() -> None:
    detector = build_detector(SHIPPED, backend="patterns", cache_size=0)
    assert not isinstance(detector, CachedDetector)


def test_threads_share_the_cache_safely() -> None:
    detector = build_detector(SHIPPED, backend="patterns", cache_size=64)
    assert isinstance(detector, CachedDetector)
    texts = [f"{TEXT} ticket {n}" for n in range(16)]
    expected = {text: detector.detect(text) for text in texts}
    errors: list[str] = []

    def work() -> None:
        for text in texts * 5:
            if detector.detect(text) != expected[text]:
                errors.append(text)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert detector.cache.hits == 4 * 5 * 16


def test_a_chat_history_resent_is_scanned_once(tmp_path: Path) -> None:
    from policy_engine import Engine
    from policy_engine.settings import load_settings

    settings = load_settings(
        audit_url=f"sqlite:///{tmp_path / 'audit.db'}",
        hmac_key_file=tmp_path / "hmac.key",
        detection_backend="patterns",
        finding_cache_size=16,
    )
    with Engine.from_settings(settings) as engine:
        detector = engine.detector
        assert isinstance(detector, CachedDetector)
        history = [
            {"role": "system", "content": "You answer questions about invoices."},
            {"role": "user", "content": TEXT},
        ]
        first = engine.decide({"messages": history})
        again = engine.decide(
            {"messages": [*history, {"role": "user", "content": "And the total?"}]}
        )
        assert (detector.cache.hits, detector.cache.misses) == (2, 3)
        assert first.segment == again.segment
        assert [f.model_dump() for f in first.findings] == [
            f.model_dump() for f in again.findings if f.message != 2
        ]
