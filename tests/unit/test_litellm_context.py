"""What a LiteLLM call means here (policy_engine.integrations.litellm_context), and the
PE_LITELLM_MODEL_MAP setting: model groups to catalog ids and back, the caller's context,
bad parameters and settings named."""

from __future__ import annotations

import pytest

from policy_engine.bootstrap import check_litellm_model_map
from policy_engine.catalog import load_catalog
from policy_engine.errors import ConfigError
from policy_engine.integrations.litellm_context import (
    ParamError,
    caller_context,
    catalog_id,
    model_groups_for,
    model_map_param,
)
from policy_engine.settings import PROJECT_ROOT, load_settings

MAP = {"public-chat": "deepseek-v4-flash", "cheap-chat": "deepseek-v4-flash", "gpt-4o": "x"}


def test_a_group_is_its_mapped_id_else_its_own_name() -> None:
    assert catalog_id("public-chat", MAP) == "deepseek-v4-flash"
    assert catalog_id("onprem-qwen3-32b", MAP) == "onprem-qwen3-32b"
    assert catalog_id("gpt-4o", MAP) == "x"


def test_the_groups_of_an_endpoint_are_the_mapped_ones_then_its_own_name() -> None:
    assert model_groups_for("deepseek-v4-flash", MAP) == [
        "public-chat",
        "cheap-chat",
        "deepseek-v4-flash",
    ]
    assert model_groups_for("onprem-qwen3-32b", MAP) == ["onprem-qwen3-32b"]
    # A group named after a catalog id that the map sends elsewhere is not that endpoint.
    assert model_groups_for("gpt-4o", MAP) == []
    assert model_groups_for("x", MAP) == ["gpt-4o", "x"]


def test_context_params_win_over_the_key_and_the_key_fills_the_rest() -> None:
    key = {
        "user_api_key_org_id": "org-1",
        "user_api_key_team_alias": "support",
        "user_api_key_team_id": "team-1",
        "user_api_key_alias": "key-a",
        "user_api_key_end_user_id": None,
        "user_api_key_user_id": "u-7",
        "user_api_key_hash": "abc",
    }
    assert caller_context(key, {}, where="p") == {
        "tenant": "org-1",
        "application": "support",
        "user": "u-7",
    }
    params = {"tenant": "acme", "purpose": "triage", "declared_classification": "internal"}
    assert caller_context(key, params, where="p") == {
        "tenant": "acme",
        "purpose": "triage",
        "declared_classification": "internal",
        "application": "support",
        "user": "u-7",
    }
    assert caller_context(
        {"user_api_key_alias": "key-a", "user_api_key_org_id": 5}, {}, where="p"
    ) == {"application": "key-a"}


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"tenant": 7}, "p.tenant"),
        ({"purpose": " "}, "p.purpose"),
        ({"application": "a" * 201}, "p.application"),
    ],
)
def test_a_bad_context_param_is_named(params: dict[str, object], field: str) -> None:
    with pytest.raises(ParamError) as caught:
        caller_context({}, params, where="p")
    assert caught.value.field == field


@pytest.mark.parametrize("value", [["a"], {"a": 1}, {"": "x"}, {"a": ""}])
def test_a_bad_model_map_param_is_named(value: object) -> None:
    with pytest.raises(ParamError) as caught:
        model_map_param({"model_map": value}, where="p")
    assert caught.value.field == "p.model_map"


def test_model_map_param_is_optional() -> None:
    assert model_map_param({"tenant": "acme"}, where="p") == {}
    assert model_map_param({"model_map": {"a": "b"}}, where="p") == {"a": "b"}


def test_the_model_map_setting_is_a_json_object(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PE_LITELLM_MODEL_MAP", '{"public-chat": "deepseek-v4-flash"}')
    assert load_settings().litellm_model_map == {"public-chat": "deepseek-v4-flash"}
    monkeypatch.setenv("PE_LITELLM_MODEL_MAP", "")
    assert load_settings().litellm_model_map == {}


@pytest.mark.parametrize("value", ['{"a": ', '["a"]', '{"a": 1}', '{"a": ""}'])
def test_a_bad_model_map_setting_is_named(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("PE_LITELLM_MODEL_MAP", value)
    with pytest.raises(ConfigError) as caught:
        load_settings()
    assert "PE_LITELLM_MODEL_MAP" in str(caught.value)


def test_a_model_map_setting_naming_no_catalog_endpoint_stops_start_up(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    catalog = load_catalog(PROJECT_ROOT / "examples" / "catalog.yaml")
    monkeypatch.setenv("PE_LITELLM_MODEL_MAP", '{"chat": "deepseek-v4-flash"}')
    check_litellm_model_map(load_settings(), catalog)
    monkeypatch.setenv("PE_LITELLM_MODEL_MAP", '{"chat": "deepseek-v9"}')
    with pytest.raises(ConfigError) as caught:
        check_litellm_model_map(load_settings(), catalog)
    assert "PE_LITELLM_MODEL_MAP: deepseek-v9 not in the catalog" in str(caught.value)
