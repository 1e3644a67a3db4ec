"""The OpenAPI description of ``POST /decide``, and the ``/docs`` page served offline.

The route reads its body itself (to enforce size, encoding and shape limits before
validation), so FastAPI cannot infer the schema: it is declared here from
:class:`DecideRequest`, with its nested models registered as components so that every
``$ref`` in the document resolves; so are its one query parameter (``explain``) and the
answer's ``explanation`` (present only with ``?explain=true``).

``/docs`` is FastAPI's Swagger UI page with its JavaScript, CSS and icon served by this
service from the ``swagger-ui-bundle-v2`` package (pinned in pyproject.toml), not from a
CDN: it works with no network. ``/redoc`` is not served (no offline copy of it).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from pydantic import Field

from policy_engine.explain import Explanation
from policy_engine.models import DecideRequest, Decision

_REF_TEMPLATE = "#/components/schemas/{model}"

#: Where the Swagger UI files are served.
DOCS_ASSETS = "/docs/assets"

#: The query parameters of ``POST /decide``; any other is refused (422).
DECIDE_QUERY_PARAMETERS: dict[str, dict[str, Any]] = {
    "explain": {
        "name": "explain",
        "in": "query",
        "required": False,
        "schema": {"type": "boolean", "default": False},
        "description": "true (or 1): add `explanation` to the answer: the rules that fired"
        " and why each catalog endpoint is allowed or excluded. The decision itself is the"
        " same, and audited the same.",
    }
}


class ExplainedDecision(Decision):
    """The answer of ``POST /decide``; ``explanation`` only with ``?explain=true``."""

    explanation: Explanation | None = Field(
        default=None,
        description="Present only with ?explain=true: the rules that fired, the obligations,"
        " and for every catalog endpoint whether it is allowed and why.",
    )


def _request_schemas() -> dict[str, Any]:
    schema = DecideRequest.model_json_schema(ref_template=_REF_TEMPLATE)
    definitions: dict[str, Any] = schema.pop("$defs", {})
    return {**definitions, "DecideRequest": schema}


def decide_request_body() -> dict[str, Any]:
    """``openapi_extra`` for the route: the required JSON body and the query parameters."""
    return {
        "parameters": list(DECIDE_QUERY_PARAMETERS.values()),
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {"$ref": _REF_TEMPLATE.format(model="DecideRequest")}
                }
            },
        },
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


def install_offline_docs(app: FastAPI) -> None:
    """``/docs`` (Swagger UI) with its assets served from the installed package; the app
    must be created with ``docs_url=None, redoc_url=None``."""
    from swagger_ui_bundle import swagger_ui_path  # the pinned swagger-ui-bundle-v2

    app.mount(DOCS_ASSETS, StaticFiles(directory=str(swagger_ui_path)), name="docs-assets")
    redirect = "/docs/oauth2-redirect"

    @app.get("/docs", include_in_schema=False)
    async def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=app.openapi_url or "/openapi.json",
            title=f"{app.title} - API",
            oauth2_redirect_url=redirect,
            swagger_js_url=f"{DOCS_ASSETS}/swagger-ui-bundle.js",
            swagger_css_url=f"{DOCS_ASSETS}/swagger-ui.css",
            swagger_favicon_url=f"{DOCS_ASSETS}/favicon-32x32.png",
            # Swagger UI would otherwise ask validator.swagger.io to check the document.
            swagger_ui_parameters={"validatorUrl": None},
        )

    @app.get(redirect, include_in_schema=False)
    async def oauth2_redirect() -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()
