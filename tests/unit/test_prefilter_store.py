"""The compiled prefilter kept on disk: reused by the next build, never trusted blindly.

A stored prefilter must search exactly like a freshly compiled one; a different set of
patterns must never read another set's entry; a damaged entry is compiled again (and
rewritten); an unwritable directory only costs the time.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
import regex
import structlog

from policy_engine.detection import build_detector
from policy_engine.detection.definitions import REGEX_FLAGS
from policy_engine.detection.prefilter import Prefilter, finditer
from policy_engine.detection.prefilter_store import PrefilterStore
from policy_engine.settings import PROJECT_ROOT, Settings

PATTERNS: list[tuple[str, int]] = [
    (r"\b\d{3}-\d{2}-\d{4}\b", REGEX_FLAGS),
    (r"(?i)token\s*[:=]\s*(?P<value>[a-z0-9]{6,})", REGEX_FLAGS),
    (r"(?<tag>[a-c])x(?P=tag)", REGEX_FLAGS),  # not windowed: a back reference
    (r"a.*?z", REGEX_FLAGS),
]
PIECES = ["536-22-8190", "token: abc123def", "axa", "a to z", " ", "\n", "x", "9", "-"]


def matches(prefilter: Prefilter, text: str) -> list[list[tuple[int, int]]]:
    hits = prefilter.scan(text)
    assert hits is not None
    return [
        [m.span() for m in finditer(regex.compile(p, f), text, hits.windowing(key))]
        for key, (p, f) in enumerate(PATTERNS)
    ]


def texts() -> list[str]:
    rng = random.Random(7)
    return ["".join(rng.choice(PIECES) for _ in range(200)) for _ in range(20)]


def test_a_stored_prefilter_is_reused_and_searches_the_same(tmp_path: Path) -> None:
    store = PrefilterStore(tmp_path)
    compiled = Prefilter(PATTERNS, store)
    (entry,) = tmp_path.glob("prefilter-*.bin")
    assert store.load(store.key(PATTERNS)) is not None
    written = entry.stat().st_mtime_ns
    loaded = Prefilter(PATTERNS, store)
    assert entry.stat().st_mtime_ns == written  # read, not compiled and written again
    assert loaded.reaches == compiled.reaches
    assert loaded.reaches[2] is None and loaded.windowed == 3
    for text in texts():
        assert (
            matches(loaded, text) == matches(compiled, text) == matches(Prefilter(PATTERNS), text)
        )


def test_other_patterns_get_their_own_entry(tmp_path: Path) -> None:
    store = PrefilterStore(tmp_path)
    Prefilter(PATTERNS, store)
    changed = [*PATTERNS[:-1], (r"a.*?y", REGEX_FLAGS)]
    assert store.key(changed) != store.key(PATTERNS)
    assert store.key([(PATTERNS[0][0], REGEX_FLAGS | regex.IGNORECASE)]) != store.key(PATTERNS[:1])
    assert store.load(store.key(changed)) is None
    Prefilter(changed, store)
    assert len(list(tmp_path.glob("prefilter-*.bin"))) == 2


@pytest.mark.parametrize(
    "damage",
    ["truncate", "flip a database byte", "edit a reach", "not json", "empty"],
)
def test_a_damaged_entry_is_compiled_again_and_rewritten(tmp_path: Path, damage: str) -> None:
    store = PrefilterStore(tmp_path)
    fresh = Prefilter(PATTERNS, store)
    (entry,) = tmp_path.glob("prefilter-*.bin")
    raw = entry.read_bytes()
    header, _, body = raw.partition(b"\n")
    if damage == "truncate":
        raw = raw[: len(raw) // 2]
    elif damage == "flip a database byte":
        middle = len(body) // 2
        raw = header + b"\n" + body[:middle] + bytes([body[middle] ^ 0xFF]) + body[middle + 1 :]
    elif damage == "edit a reach":
        fields = json.loads(header)
        fields["reaches"][0][0] = 1  # a shorter reach would miss matches: must be refused
        raw = json.dumps(fields).encode() + b"\n" + body
    elif damage == "not json":
        raw = b"{oops\n" + body
    else:
        raw = b""
    entry.write_bytes(raw)
    with structlog.testing.capture_logs() as logs:
        rebuilt = Prefilter(PATTERNS, store)
    assert [e["event"] for e in logs] == ["prefilter_cache_ignored", "prefilter_cache_written"]
    assert rebuilt.reaches == fresh.reaches
    for text in texts():
        assert matches(rebuilt, text) == matches(fresh, text)
    assert store.load(store.key(PATTERNS)) is not None  # rewritten whole


def test_an_unwritable_directory_only_costs_time(tmp_path: Path) -> None:
    blocked = tmp_path / "file"
    blocked.write_text("not a directory")
    store = PrefilterStore(blocked / "cache")
    with structlog.testing.capture_logs() as logs:
        prefilter = Prefilter(PATTERNS, store)
    assert [e["event"] for e in logs] == [
        "prefilter_cache_unreadable",
        "prefilter_cache_not_written",
    ]
    assert prefilter.windowed == 3


def test_the_service_setting_keeps_the_shipped_prefilter(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PE_COMPILED_CACHE_DIR", str(tmp_path / "compiled"))
    settings = Settings().resolved()
    assert settings.compiled_cache_dir == tmp_path / "compiled"
    detector = build_detector(
        PROJECT_ROOT / "detectors",
        backend="patterns",
        compiled_cache_dir=settings.compiled_cache_dir,
    )
    assert len(list((tmp_path / "compiled").glob("prefilter-*.bin"))) == 1
    again = build_detector(
        PROJECT_ROOT / "detectors",
        backend="patterns",
        compiled_cache_dir=settings.compiled_cache_dir,
    )
    text = "Call 212-555-0143, SSN 536-22-8190, key AKIAQ3EGRTXN4KDH7ZPM"
    assert again.detect(text) == detector.detect(text)
    monkeypatch.setenv("PE_COMPILED_CACHE_DIR", "")
    assert Settings().compiled_cache_dir is None
