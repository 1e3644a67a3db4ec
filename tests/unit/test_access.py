"""API keys: parsing PE_BOOTSTRAP_KEYS, constant-time lookup, errors that never show a key."""

from __future__ import annotations

import pytest

from policy_engine.access import KeyRing, key_id_for, parse_bootstrap_keys
from policy_engine.errors import ConfigError
from policy_engine.settings import load_settings

GATEWAY_KEY = "gw-0123456789abcdef"
AUDITOR_KEY = "au-0123456789abcdef"


def test_bootstrap_keys_parse_into_roles() -> None:
    keys = parse_bootstrap_keys(f" gateway:{GATEWAY_KEY} , auditor:{AUDITOR_KEY},")
    assert keys == [("gateway", GATEWAY_KEY), ("auditor", AUDITOR_KEY)]


def test_keyring_authenticates_by_key_and_names_the_key_id() -> None:
    ring = KeyRing(parse_bootstrap_keys(f"gateway:{GATEWAY_KEY},auditor:{AUDITOR_KEY}"))
    principal = ring.authenticate(AUDITOR_KEY)
    assert principal is not None
    assert principal.role == "auditor"
    assert principal.key_id == key_id_for(AUDITOR_KEY)
    assert AUDITOR_KEY not in principal.key_id
    assert ring.authenticate(AUDITOR_KEY + "x") is None
    assert ring.authenticate("") is None


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("root:0123456789abcdefXYZ", "entry 1 must look like ROLE:KEY"),
        ("gateway0123456789abcdef", "entry 1 must look like ROLE:KEY"),
        (f"gateway:{GATEWAY_KEY},auditor:short-secret", "entry 2 (auditor)"),
    ],
)
def test_bad_bootstrap_keys_name_the_entry_not_the_key(spec: str, expected: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_bootstrap_keys(spec)
    assert expected in str(caught.value)
    for secret in ("0123456789abcdefXYZ", "short-secret"):
        assert secret not in str(caught.value)


def test_invalid_bootstrap_keys_stop_start_up_without_showing_the_key(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PE_BOOTSTRAP_KEYS", "auditor:tiny-secret")
    with pytest.raises(ConfigError) as caught:
        load_settings()
    assert "PE_BOOTSTRAP_KEYS" in str(caught.value)
    assert "tiny-secret" not in str(caught.value)
