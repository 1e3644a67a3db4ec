"""The key store: keys stored hashed (0600), revocation seen by a running key ring."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from policy_engine.access import KeyRing, key_id_for
from policy_engine.errors import ConfigError
from policy_engine.keystore import KeyStore, service_keyring

BOOT_KEY = "boot-gateway-key-0123456789"


def test_created_key_is_stored_hashed_in_a_private_file(tmp_path: Path) -> None:
    store = KeyStore(tmp_path / "var" / "keys.json")
    key, entry = store.create("auditor", label="audit team")
    text = store.path.read_text()
    assert key not in text
    assert entry.id == key_id_for(key) and entry.id in text
    assert stat.S_IMODE(store.path.stat().st_mode) == 0o600
    (stored,) = store.entries()
    assert stored == entry and stored.active and stored.role == "auditor"
    assert json.loads(text)["keys"][0]["label"] == "audit team"


def test_ring_accepts_stored_keys_and_sees_revocation_without_restart(tmp_path: Path) -> None:
    store = KeyStore(tmp_path / "keys.json")
    key, entry = store.create("gateway")
    ring = KeyRing(store=store)
    principal = ring.authenticate(key)
    assert principal is not None and principal.key_id == entry.id
    other_key, _ = KeyStore(store.path).create("admin")  # e.g. `policy-engine keys create`
    assert ring.authenticate(other_key) is not None
    KeyStore(store.path).revoke(entry.id)
    assert ring.authenticate(key) is None
    assert ring.roles() == {"admin"}


def test_revoked_key_stays_revoked_even_when_given_directly(tmp_path: Path) -> None:
    store = KeyStore(tmp_path / "keys.json")
    store.add_keys([("gateway", BOOT_KEY)])
    store.revoke(key_id_for(BOOT_KEY))
    assert store.add_keys([("gateway", BOOT_KEY)]) == []  # a known digest is left alone
    ring = KeyRing([("gateway", BOOT_KEY)], store=store)
    assert ring.authenticate(BOOT_KEY) is None


def test_revoking_an_unknown_key_says_what_to_do(tmp_path: Path) -> None:
    store = KeyStore(tmp_path / "keys.json")
    with pytest.raises(ConfigError, match="keys list"):
        store.revoke("key-000000000000")


def test_a_damaged_key_file_is_a_config_error(tmp_path: Path) -> None:
    path = tmp_path / "keys.json"
    path.write_text('{"version": 1, "keys": [{"id": "x"}]}')
    with pytest.raises(ConfigError, match="PE_KEYS_FILE"):
        KeyStore(path).entries()


def test_service_makes_and_announces_a_first_gateway_key_once(tmp_path: Path) -> None:
    shown: list[str] = []
    ring = service_keyring(tmp_path / "keys.json", "", shown.append)
    assert len(shown) == 1
    key = next(word for word in shown[0].split() if word.startswith("pe_"))
    principal = ring.authenticate(key)
    assert principal is not None and principal.role == "gateway"
    service_keyring(tmp_path / "keys.json", "", shown.append)
    assert len(shown) == 1  # a gateway key exists now: nothing is made or shown


def test_bootstrap_gateway_key_means_no_first_key(tmp_path: Path) -> None:
    shown: list[str] = []
    ring = service_keyring(tmp_path / "keys.json", f"gateway:{BOOT_KEY}", shown.append)
    assert shown == []
    assert ring.authenticate(BOOT_KEY) is not None
    assert [e.label for e in KeyStore(tmp_path / "keys.json").entries()] == ["PE_BOOTSTRAP_KEYS"]


def test_ring_keeps_the_last_good_keys_when_the_file_is_damaged(tmp_path: Path) -> None:
    store = KeyStore(tmp_path / "keys.json")
    key, _ = store.create("gateway")
    ring = KeyRing(store=store)
    store.path.write_text("{not json")
    assert ring.authenticate(key) is not None
