"""Small parts of the audit trail: settings, filters, cursors, signing keys, checkpoint policy."""

from __future__ import annotations

import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from policy_engine.audit.checkpoints import CheckpointPolicy
from policy_engine.audit.filters import decode_cursor, encode_cursor
from policy_engine.audit.signing import load_or_create_signer, load_public_key, signature_valid
from policy_engine.errors import ConfigError, RequestError
from policy_engine.records import AuditFilters, checkpoint_message, parse_moment, utc_text
from policy_engine.settings import load_settings


@pytest.mark.parametrize(
    "url",
    ["sqlite:///var/audit.db", "postgresql://pe:secret@db:5432/audit", "postgres://db/audit"],
)
def test_audit_url_accepts_both_stores(url: str) -> None:
    assert load_settings(audit_url=url).audit_url == url


@pytest.mark.parametrize("url", ["mysql://db/audit", "postgresql://", "sqlite:///", "audit.db"])
def test_audit_url_rejects_others_naming_the_setting(url: str) -> None:
    with pytest.raises(ConfigError, match="PE_AUDIT_URL"):
        load_settings(audit_url=url)


def test_checkpoint_settings_have_bounds() -> None:
    settings = load_settings()
    assert (settings.checkpoint_every, settings.checkpoint_seconds) == (1000, 60.0)
    with pytest.raises(ConfigError, match="PE_CHECKPOINT_EVERY"):
        load_settings(checkpoint_every=0)
    with pytest.raises(ConfigError, match="PE_CHECKPOINT_SECONDS"):
        load_settings(checkpoint_seconds=-1)


def test_times_and_dates_become_the_logs_utc_text() -> None:
    assert parse_moment("2026-11-22") == "2026-11-22T00:00:00.000000Z"
    assert parse_moment("2026-11-22T10:00:00+02:00") == "2026-11-22T08:00:00.000000Z"
    assert parse_moment("2026-11-22T10:00Z") == "2026-11-22T10:00:00.000000Z"
    assert AuditFilters(since="2026-11-22").since == "2026-11-22T00:00:00.000000Z"
    with pytest.raises(ValueError, match="not a date or time"):
        AuditFilters(until="last tuesday")
    with pytest.raises(ValueError):
        AuditFilters(segment="everywhere")  # type: ignore[arg-type]


def test_cursors_round_trip_and_foreign_ones_are_refused() -> None:
    assert decode_cursor(encode_cursor(1234)) == 1234
    for bad in ["1234", "!!!", encode_cursor(5)[:-2] + "zz", ""]:
        with pytest.raises(RequestError, match="cursor"):
            decode_cursor(bad)


def test_signing_key_is_created_private_with_a_public_half(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "audit-signing.key"
    signer = load_or_create_signer(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    again = load_or_create_signer(path)
    assert again.key_id == signer.key_id
    public = load_public_key(path.with_name(path.name + ".pub"))
    message = checkpoint_message(7, "ab" * 32, utc_text())
    signature = signer.sign(message)
    assert signature_valid(public, message, signature)
    assert not signature_valid(public, message + b" ", signature)
    assert not signature_valid(public, message, "not base64!")
    assert "PRIVATE" not in repr(signer)


def test_unreadable_key_file_is_a_config_error(tmp_path: Path) -> None:
    path = tmp_path / "audit-signing.key"
    path.write_text("not a key")
    with pytest.raises(ConfigError, match="PE_AUDIT_SIGNING_KEY_FILE"):
        load_or_create_signer(path)


def test_checkpoint_policy_every_n_or_t_seconds() -> None:
    policy = CheckpointPolicy(every=10, seconds=60)
    now = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
    recent = utc_text(now - timedelta(seconds=5))
    old = utc_text(now - timedelta(seconds=61))
    assert not policy.due(9, 0, recent, now)
    assert policy.due(10, 0, recent, now)
    assert policy.due(11, 10, old, now)
    assert not policy.due(10, 10, old, now)  # the head is already signed


def test_input_members_read_is_conservative() -> None:
    from policy_engine.policy.input_paths import input_members_read, project

    read = input_members_read(
        {"a.rego": "# the whole input, said a comment\nx if input.context.tenant == 1",
         "b.rego": 'y if { some f in input.findings; f.type == "#" }'}
    )  # fmt: skip
    assert read == {"context": {("tenant",)}, "findings": None}
    policy_input = {"context": {"tenant": "acme", "user": "u"}, "findings": [1], "content": 5}
    assert project(policy_input, read) == {"context": {"tenant": "acme"}, "findings": [1]}
    assert input_members_read(
        {"a.rego": "x if input.context.tenant", "b.rego": "y := input.context"}
    ) == {"context": None}
    assert (
        input_members_read({"a.rego": "x if input.context", "b.rego": "y := walk(input)"}) is None
    )
    assert input_members_read({"a.rego": 'x := input["content"]'}) is None
    assert input_members_read({"a.rego": "import input\nx if input.context"}) is None
