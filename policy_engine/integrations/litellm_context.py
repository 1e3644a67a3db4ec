"""What a LiteLLM call means in this package's terms: which catalog endpoint its model
group is, and who is calling, for what.

Shared by the service's Generic Guardrail API route
(:mod:`policy_engine.api.guardrail_routes`) and the guardrail class
(:mod:`policy_engine.integrations.litellm`). Standard library only: the class runs on a
gateway host that has LiteLLM, not the engine's dependencies.

Both read the guardrail's static parameters (LiteLLM's
``additional_provider_specific_params``):

* ``model_map``: model group -> catalog endpoint id, for groups not named after their
  catalog id (a group named after a catalog id is that endpoint);
* ``tenant``, ``application``, ``purpose``, ``declared_classification``: the decision's
  context, where LiteLLM's key does not say (see :func:`caller_context`).
"""

from __future__ import annotations

from collections.abc import Mapping

__all__ = [
    "CONTEXT_PARAMS",
    "MAX_CONTEXT_CHARS",
    "MODEL_MAP_PARAM",
    "ParamError",
    "caller_context",
    "catalog_id",
    "model_groups_for",
    "model_map_param",
]

#: Static parameters that set a context field of the decision.
CONTEXT_PARAMS = ("tenant", "application", "purpose", "declared_classification")
#: The static parameter mapping model groups to catalog endpoint ids.
MODEL_MAP_PARAM = "model_map"
#: Longest value of a context field (the engine's limit).
MAX_CONTEXT_CHARS = 200

#: LiteLLM's key metadata (``request_data`` of the Generic Guardrail API), in order of
#: preference, for each context field it can fill.
_FROM_KEY_METADATA = {
    "tenant": ("user_api_key_org_id",),
    "application": ("user_api_key_team_alias", "user_api_key_team_id", "user_api_key_alias"),
    "user": ("user_api_key_end_user_id", "user_api_key_user_id"),
}


class ParamError(ValueError):
    """A static parameter is not what it must be; ``field`` names it (never its value)."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}")
        self.field = field
        self.problem = problem


def caller_context(
    key_metadata: Mapping[str, object], params: Mapping[str, object], *, where: str
) -> dict[str, str]:
    """The decision's context for a call: each of :data:`CONTEXT_PARAMS` from ``params``
    when given there; else ``tenant`` from the key's organization, ``application`` from its
    team (alias, then id) or the key's alias; ``user`` from the end user, else the key's
    user. ``key_metadata`` holds LiteLLM's ``user_api_key_*`` fields; values that are not
    text are left out. ``where`` names ``params`` in errors (:class:`ParamError`)."""
    context: dict[str, str] = {}
    for name in CONTEXT_PARAMS:
        value = params.get(name)
        if value is None:
            continue
        if not isinstance(value, str) or not value.strip():
            raise ParamError(f"{where}.{name}", "must be a non-empty string")
        if len(value) > MAX_CONTEXT_CHARS:
            raise ParamError(f"{where}.{name}", f"longer than {MAX_CONTEXT_CHARS} characters")
        context[name] = value
    for name, keys in _FROM_KEY_METADATA.items():
        if name in context:
            continue
        for key in keys:
            value = key_metadata.get(key)
            if isinstance(value, str) and value.strip():
                context[name] = value[:MAX_CONTEXT_CHARS]
                break
    return context


def model_map_param(params: Mapping[str, object], *, where: str) -> dict[str, str]:
    """``params``' ``model_map`` (model group -> catalog id); {} when absent."""
    value = params.get(MODEL_MAP_PARAM)
    if value is None:
        return {}
    field = f"{where}.{MODEL_MAP_PARAM}"
    if not isinstance(value, Mapping):
        raise ParamError(field, "must be an object of model group -> catalog endpoint id")
    out: dict[str, str] = {}
    for group, endpoint in value.items():
        if not isinstance(group, str) or not group or not isinstance(endpoint, str) or not endpoint:
            raise ParamError(field, "model groups and catalog ids must be non-empty strings")
        out[group] = endpoint
    return out


def catalog_id(model_group: str, model_map: Mapping[str, str]) -> str:
    """The catalog endpoint id ``model_group`` stands for: its entry in ``model_map``,
    else its own name."""
    return model_map.get(model_group, model_group)


def model_groups_for(endpoint: str, model_map: Mapping[str, str]) -> list[str]:
    """The model groups that stand for catalog endpoint ``endpoint``: those ``model_map``
    maps to it (in its order), then the group named after it unless the map sends that
    name elsewhere."""
    groups = [group for group, target in model_map.items() if target == endpoint]
    if catalog_id(endpoint, model_map) == endpoint and endpoint not in groups:
        groups.append(endpoint)
    return groups
