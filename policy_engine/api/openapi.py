"""The OpenAPI description of ``POST /decide``'s body.

The route reads its body itself (to enforce size, encoding and shape limits before
validation), so FastAPI cannot infer the schema: it is declared here from
:class:`DecideRequest`, with its nested models registered as components so that every
``$ref`` in the document resolves.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI

from policy_engine.models import DecideRequest

_REF_TEMPLATE = "#/components/schemas/{model}"


def _request_schemas() -> dict[str, Any]:
    schema = DecideRequest.model_json_schema(ref_template=_REF_TEMPLATE)
    definitions: dict[str, Any] = schema.pop("$defs", {})
    return {**definitions, "DecideRequest": schema}


def decide_request_body() -> dict[str, Any]:
    """``openapi_extra`` for the route: the required JSON body."""
    return {
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {"$ref": _REF_TEMPLATE.format(model="DecideRequest")}
                }
            },
        }
    }


def install_request_schemas(app: FastAPI) -> None:
    """Make ``app.openapi()`` include the request models among its components."""
    generate: Callable[[], dict[str, Any]] = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = generate()
            components = document.setdefault("components", {}).setdefault("schemas", {})
            components.update(_request_schemas())
        return app.openapi_schema or {}

    app.openapi = openapi  # type: ignore[method-assign]
