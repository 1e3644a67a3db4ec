"""Settings, catalog and HMAC key loading: defaults work, bad values name what is wrong."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from policy_engine.catalog import load_catalog
from policy_engine.digest import Digester, load_or_create_key
from policy_engine.errors import ConfigError
from policy_engine.settings import PROJECT_ROOT, load_settings

EXAMPLE_CATALOG = PROJECT_ROOT / "examples" / "catalog.yaml"


def test_defaults_resolve_to_the_shipped_files(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("PE_"):
            monkeypatch.delenv(name)
    settings = load_settings()
    assert settings.host == "127.0.0.1"
    assert settings.port == 8080
    assert settings.policies_dir.samefile(PROJECT_ROOT / "policies")
    assert settings.detectors_dir.samefile(PROJECT_ROOT / "detectors")
    assert settings.catalog.samefile(EXAMPLE_CATALOG)
    assert settings.audit_url == "sqlite:///var/audit.db"


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("PE_PORT", "eighty"),
        ("PE_PORT", "70000"),
        ("PE_AUDIT_URL", "mysql://db/audit"),
        ("PE_POLICIES_DIR", "/nonexistent/policies"),
        ("PE_DETECTORS_DIR", "/nonexistent/detectors"),
        ("PE_CATALOG", "/nonexistent/catalog.yaml"),
        ("PE_DETECTION_BACKEND", "magic"),
        ("PE_POLICY_CACHE_SIZE", "-1"),
    ],
)
def test_invalid_setting_is_named(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigError) as caught:
        load_settings()
    assert variable in str(caught.value)


def test_example_catalog_is_valid_and_has_the_documented_endpoints() -> None:
    catalog = load_catalog(EXAMPLE_CATALOG)
    ids = {e.id for e in catalog.endpoints}
    assert {"onprem-qwen3-32b", "deepseek-v4-flash", "deepseek-v4-pro", "gpt-4o"} <= ids
    flash = catalog.by_id("deepseek-v4-flash")
    assert flash is not None
    assert (flash.price.input_per_mtok, flash.price.output_per_mtok) == (0.27, 1.10)
    assert flash.context_window == 131072
    assert {e.deployment for e in catalog.endpoints} == {
        "on_prem",
        "trusted_hosted",
        "public_hosted",
    }
    data = catalog.policy_data()
    assert data["endpoints"][0]["id"] == catalog.endpoints[0].id


def test_catalog_error_names_endpoint_and_field(tmp_path: Path) -> None:
    bad = tmp_path / "catalog.yaml"
    bad.write_text(
        "endpoints:\n"
        "  - id: cheap\n    model: m\n    vendor: v\n    deployment: on_prem\n"
        "    context_window: 1000\n    price: {input_per_mtok: -1, output_per_mtok: 1}\n"
    )
    with pytest.raises(ConfigError) as caught:
        load_catalog(bad)
    message = str(caught.value)
    assert str(bad) in message
    assert "endpoints[cheap].price.input_per_mtok" in message


def test_catalog_yaml_syntax_error_names_line(tmp_path: Path) -> None:
    bad = tmp_path / "catalog.yaml"
    bad.write_text("endpoints:\n  - id: [unclosed\n")
    with pytest.raises(ConfigError, match=r"line \d+"):
        load_catalog(bad)


def test_duplicate_endpoint_ids_are_rejected(tmp_path: Path) -> None:
    one = "  - {id: a, model: m, vendor: v, deployment: on_prem, context_window: 10,"
    one += " price: {input_per_mtok: 1, output_per_mtok: 1}}\n"
    bad = tmp_path / "catalog.yaml"
    bad.write_text("endpoints:\n" + one + one)
    with pytest.raises(ConfigError, match="duplicate endpoint id 'a'"):
        load_catalog(bad)


def test_hmac_key_is_created_private_and_reused(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "hmac.key"
    key = load_or_create_key(path)
    assert len(key) == 32
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_or_create_key(path) == key


def test_bad_hmac_key_file_is_named(tmp_path: Path) -> None:
    path = tmp_path / "hmac.key"
    path.write_text("not hex at all")
    with pytest.raises(ConfigError, match="PE_HMAC_KEY_FILE"):
        load_or_create_key(path)


def test_digests_are_keyed() -> None:
    a, b = Digester(b"k" * 32), Digester(b"j" * 32)
    assert a.digest("123-45-6789") == a.digest("123-45-6789")
    assert a.digest("123-45-6789") != b.digest("123-45-6789")
    assert a.digest("123-45-6789").startswith("hmac-sha256:")
    assert "k" * 32 not in repr(a)
