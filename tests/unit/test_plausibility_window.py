"""The URL-password check of e-mail spans searches a window, with the full search's answer."""

from __future__ import annotations

import random

from policy_engine.detection.plausibility import _URL_USER, _after_url_user, filter_implausible
from policy_engine.models import DetectedSpan


def email_at(text: str, value: str) -> DetectedSpan:
    start = text.index(value)
    return DetectedSpan(
        type="EMAIL_ADDRESS",
        category="pii",
        start=start,
        end=start + len(value),
        score=1.0,
        detector="presidio:EmailRecognizer",
    )


def test_window_agrees_with_a_search_of_all_text() -> None:
    rng = random.Random(11)
    alphabet = "ab:/@ .x1\n"
    pieces = ["https://", "svc:", "a" * 300, " ", "ftp://u:"]
    for _ in range(400):
        text = "".join(
            rng.choice(pieces) if rng.random() < 0.2 else rng.choice(alphabet)
            for _ in range(rng.randrange(1, 24))
        )
        for start in range(len(text) + 1):
            expected = _URL_USER.search(text, 0, start) is not None
            assert _after_url_user(text, start) == expected, (text, start)


def test_password_and_host_in_a_url_is_not_an_email_even_far_into_a_text() -> None:
    prefix = "Plain words here. " * 2000
    url = "postgres://billing:s3cret@db.example.com/ledger"
    text = prefix + url + " and write to dana@example.com"
    password_host = email_at(text, "s3cret@db.example.com")
    mail = email_at(text, "dana@example.com")
    assert filter_implausible(text, [password_host, mail]) == [mail]
    long_run = "x" * 400 + "https://user:" + "pw@host.example.com"
    assert filter_implausible(long_run, [email_at(long_run, "pw@host.example.com")]) == []
