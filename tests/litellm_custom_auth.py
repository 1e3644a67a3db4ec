"""LiteLLM's ``custom_auth`` hook for the reroute tests: keys limited to some model groups
without LiteLLM's database. Runs inside the LiteLLM proxy (its virtualenv), copied next to
the test's config (LiteLLM loads ``general_settings.custom_auth`` from there)."""

from __future__ import annotations

from typing import Any

from litellm.proxy._types import LitellmUserRoles, UserAPIKeyAuth

MASTER_KEY = "sk-litellm-master-0123456789"
#: A key that may call the public model group only.
PUBLIC_ONLY_KEY = "sk-public-only-0123456789"

KEYS: dict[str, dict[str, Any]] = {
    MASTER_KEY: {"user_role": LitellmUserRoles.PROXY_ADMIN},
    PUBLIC_ONLY_KEY: {"models": ["deepseek-v4-flash"], "key_alias": "public-only"},
}


async def user_api_key_auth(request: Any, api_key: str) -> UserAPIKeyAuth:
    if api_key not in KEYS:
        raise Exception("unknown key")
    return UserAPIKeyAuth(api_key=api_key, **KEYS[api_key])
