"""The console's parts without a server: session tokens, query checks, the overview's
counts, the charts' SVG, candidate names, and paging with the endpoint filter."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from policy_engine.audit import SQLiteAuditStore
from policy_engine.audit.savings import deliveries_by_decision, is_delivery
from policy_engine.catalog import load_catalog
from policy_engine.console import charts
from policy_engine.console.config import build_console, candidates_of
from policy_engine.console.listing import decisions_page, neighbours
from policy_engine.console.overview import overview
from policy_engine.console.query import list_query, period_query
from policy_engine.console.sessions import SessionSigner
from policy_engine.errors import ConfigError
from policy_engine.records import AuditFilters
from tests.audit_support import entry
from tests.conftest import ROOT, in_process_settings
from tests.savings_support import savings_log

SECRET = bytes(range(32))


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


# --------------------------------------------------------------------------- sessions


def test_a_session_token_names_the_key_and_expires() -> None:
    clock = Clock()
    signer = SessionSigner(SECRET, 600, clock)
    session, token = signer.issue("key-abc")
    assert signer.read(token) == session
    assert session.key_id == "key-abc"
    clock.now += 599
    assert signer.read(token) is not None
    clock.now += 2
    assert signer.read(token) is None


def test_altered_forged_or_foreign_tokens_are_refused() -> None:
    signer = SessionSigner(SECRET, 600)
    _, token = signer.issue("key-abc")
    body, mac = token.split(".")
    assert signer.read(f"{body}x.{mac}") is None
    assert signer.read(f"{body}.{mac[:-1]}A" if mac[-1] != "A" else f"{body}.{mac[:-1]}B") is None
    assert signer.read(SessionSigner(bytes(32), 600).issue("key-abc")[1]) is None
    _, nonce_token = signer.sign_in_nonce()
    assert signer.read(nonce_token) is None  # a sign-in form's token is not a session
    assert signer.read_nonce(token) is None
    for junk in ("", ".", "a.b", "x" * 2000):
        assert signer.read(junk) is None


def test_signing_out_ends_the_session_here() -> None:
    signer = SessionSigner(SECRET, 600)
    session, token = signer.issue("key-abc")
    other, other_token = signer.issue("key-abc")
    signer.end(session)
    assert signer.read(token) is None
    assert signer.read(other_token) == other


def test_csrf_tokens_are_bound_to_their_session() -> None:
    signer = SessionSigner(SECRET, 600)
    one, _ = signer.issue("key-abc")
    two, _ = signer.issue("key-abc")
    token = signer.csrf_token(one.sid)
    assert signer.csrf_valid(one.sid, token)
    assert not signer.csrf_valid(two.sid, token)
    assert not signer.csrf_valid(one.sid, "")
    assert "hidden" in repr(signer) and SECRET.hex() not in repr(signer)


def test_a_short_secret_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 16 bytes"):
        SessionSigner(b"short", 600)


# --------------------------------------------------------------------------- queries


def test_list_query_reads_filters_and_names_bad_fields() -> None:
    query = list_query({"segment": "on_prem_only", "tenant": " acme ", "limit": "25"})
    assert query.ok
    assert query.filters.segment == "on_prem_only" and query.filters.tenant == "acme"
    assert query.limit == 25 and query.after == 0
    bad = list_query({"since": "soon", "outcome": "maybe", "limit": "7", "cursor": "x"})
    assert set(bad.problems) == {"since", "outcome", "limit", "cursor"}
    assert "is not a date or time" in bad.problems["since"]


def test_period_query_defaults_and_all() -> None:
    assert period_query({}, "2026-11-01").filters.since == "2026-11-01T00:00:00.000000Z"
    assert period_query({"since": "all"}, "2026-11-01").filters.since is None
    assert period_query({"since": ""}, "2026-11-01").filters.since is None
    backwards = period_query({"since": "2026-11-02", "until": "2026-11-01"}, None)
    assert backwards.problems == {"until": "must be after 'since'"}


def test_candidates_are_named_by_their_directory() -> None:
    paths = [Path("/srv/a/candidate"), Path("/srv/b/candidate"), Path("/srv/strict")]
    assert [c.name for c in candidates_of(paths)] == ["a/candidate", "b/candidate", "strict"]


# --------------------------------------------------------------------------- overview, charts


def test_overview_counts_decisions_not_deliveries() -> None:
    records = savings_log()
    decisions = [r for r in records if not is_delivery(r)]
    data = overview(decisions, deliveries_by_decision(records))
    assert data.counted == 7
    assert data.segments == {"any": 3, "on_prem_only": 2, "trusted_hosted": 2}
    assert data.recommended["glm-4-plus-fireworks"] == 3
    assert data.recommended["(none allowed)"] == 1
    assert data.answered == {"qwen3-32b-together": 1, "(no answer)": 1}
    assert data.hourly
    labels, series = data.over_time()
    assert labels == ["11-20 10h"] and series["any"] == [3]
    capped = overview(decisions, {}, limit=5)
    assert capped.counted == 5 and capped.truncated


def test_charts_are_inline_svg_without_scripts_or_links() -> None:
    records = [r for r in savings_log() if not is_delivery(r)]
    data = overview(records, {})
    for svg in (
        charts.segments_over_time(data),
        charts.top_counts("Endpoints recommended", data.recommended),
    ):
        text = str(svg)
        assert text.startswith("<svg") and 'role="img"' in text
        assert "<script" not in text
        assert not re.search(r'(?:href|src)="(?:https?:)?//', text)
        assert "Endpoints recommended" in text or "Decisions per segment per hour" in text
    assert charts.count_axis(0) == [0, 1]
    assert charts.count_axis(7) == list(range(8))
    assert charts.count_axis(40) == [0, 5, 10, 15, 20, 25, 30, 35, 40]


# --------------------------------------------------------------------------- paging


def test_paging_with_the_endpoint_filter(tmp_path: Path) -> None:
    store = SQLiteAuditStore(tmp_path / "audit.db")
    try:
        for n in range(1, 31):
            endpoint = "gpt-4o" if n % 3 == 0 else "onprem-qwen3-32b"
            store.append(entry(n, recommended_endpoint=endpoint))
        first = decisions_page(store, AuditFilters(), endpoint="gpt-4o", after=0, limit=4)
        assert [r.sequence for r in first.records] == [3, 6, 9, 12]
        assert first.next_after == 12
        rest = decisions_page(store, AuditFilters(), endpoint="gpt-4o", after=12, limit=25)
        assert [r.sequence for r in rest.records] == [15, 18, 21, 24, 27, 30]
        assert rest.next_after is None
        plain = decisions_page(store, AuditFilters(), endpoint=None, after=0, limit=30)
        assert len(plain.records) == 30 and plain.next_after == 30
        near = neighbours(store, plain.records[0])
        assert near.previous is None and near.following is not None
        assert near.following.sequence == 2
    finally:
        store.close()


# --------------------------------------------------------------------------- settings


def test_console_settings_are_checked_and_its_key_made_private(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="PE_CONSOLE_REPLAY_DIRS=/nonexistent/candidate"):
        in_process_settings(
            tmp_path, console_replay_dirs=f"{ROOT / 'policies'},/nonexistent/candidate"
        )
    settings = in_process_settings(
        tmp_path,
        console_replay_dirs=f"{ROOT / 'policies'}, ",
        console_session_key_file=tmp_path / "console.key",
        audit_signing_key_file=tmp_path / "none.key",
    )
    console = build_console(settings, load_catalog(settings.catalog))
    assert [c.name for c in console.candidates] == ["policies"]
    assert (tmp_path / "console.key").stat().st_mode & 0o777 == 0o600
    assert console.trusted_keys == {}
    (tmp_path / "console.key").write_text("not hex\n")
    with pytest.raises(ConfigError, match=r"PE_CONSOLE_SESSION_KEY_FILE=.*hex digits"):
        build_console(settings, load_catalog(settings.catalog))


def test_the_docs_show_the_console_and_its_settings() -> None:
    audit_doc = (ROOT / "docs" / "audit.md").read_text(encoding="utf-8")
    images = re.findall(r"\]\((images/[^)]+\.png)\)", audit_doc)
    assert images and all((ROOT / "docs" / image).is_file() for image in images)
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for name in ("console_session_key_file", "console_session_minutes", "console_replay_dirs"):
        variable = f"`PE_{name.upper()}`"
        assert variable in readme and variable in audit_doc, variable
