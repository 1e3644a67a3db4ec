"""A request's detection deadline grows with its size, and a timeout names the settings."""

from __future__ import annotations

import time

import pytest

from policy_engine.errors import ScanTimeout
from policy_engine.models import DetectedSpan, ScanUnit
from policy_engine.scan import DeadlineScanner
from policy_engine.settings import load_settings


class Sleepy:
    def detect(self, text: str) -> list[DetectedSpan]:
        time.sleep(0.5)
        return []


def test_the_budget_is_the_base_plus_a_share_per_100k_characters() -> None:
    scanner = DeadlineScanner(Sleepy(), deadline_seconds=2.0, workers=1, seconds_per_100k=4.0)
    assert scanner.budget(0) == 2.0
    assert scanner.budget(50_000) == pytest.approx(4.0)
    assert scanner.budget(262_144) == pytest.approx(12.48576)
    scanner.close()


def test_the_defaults_leave_time_for_the_largest_request_the_limits_admit() -> None:
    settings = load_settings()
    largest = settings.max_message_chars
    budget = settings.scan_deadline_seconds + (
        settings.scan_deadline_seconds_per_100k * largest / 100_000
    )
    # about 25 ms of CPU per KB of text dense with capitalised words (docs/performance.md):
    # the budget must exceed that for the largest request, with room for a busy machine
    assert budget >= 2 * 0.025 * largest / 1024


def test_a_timeout_names_both_settings_and_the_size() -> None:
    scanner = DeadlineScanner(Sleepy(), deadline_seconds=0.1, workers=1, seconds_per_100k=0.1)
    with pytest.raises(ScanTimeout) as caught:
        scanner.scan([ScanUnit(text="x" * 1000)])
    message = str(caught.value)
    assert "PE_SCAN_DEADLINE_SECONDS 0.1 s" in message
    assert "PE_SCAN_DEADLINE_SECONDS_PER_100K 0.1 s for 1,000 characters" in message
    scanner.close()
    plain = DeadlineScanner(Sleepy(), deadline_seconds=0.1, workers=1)
    with pytest.raises(ScanTimeout, match=r"within 0\.1 s \(PE_SCAN_DEADLINE_SECONDS\)"):
        plain.scan([ScanUnit(text="x")])
    plain.close()
