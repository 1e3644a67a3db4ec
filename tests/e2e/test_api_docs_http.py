"""The API's own description over HTTP: /docs works with no network (Swagger UI served by
the service), OpenAPI lists ?explain and `explanation`, GET /policies names the backend,
and unknown query parameters on POST /decide are refused like unknown body fields."""

from __future__ import annotations

import re

import httpx

from tests.conftest import AUDITOR_KEY, bearer


def test_docs_page_references_nothing_outside_the_service(client: httpx.Client) -> None:
    page = client.get("/docs", headers={})
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    html = page.text
    assert not re.search(r"https?://", html), "the page must not load anything from elsewhere"
    assert '"validatorUrl": null' in html  # Swagger UI would call validator.swagger.io
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert sorted(assets) == [
        "/docs/assets/favicon-32x32.png",
        "/docs/assets/swagger-ui-bundle.js",
        "/docs/assets/swagger-ui.css",
    ]
    kinds = {".js": "javascript", ".css": "text/css", ".png": "image/png"}
    for asset in assets:
        answer = client.get(asset, headers={})
        assert answer.status_code == 200, asset
        kind = next(v for k, v in kinds.items() if asset.endswith(k))
        assert kind in answer.headers["content-type"], asset
    script = client.get("/docs/assets/swagger-ui-bundle.js", headers={}).text
    assert "SwaggerUIBundle" in script and len(script) > 500_000
    assert "url: '/openapi.json'" in html
    assert client.get("/openapi.json", headers={}).status_code == 200
    assert client.get("/redoc", headers={}).status_code == 404  # no offline copy: not served


def test_openapi_lists_explain_and_explanation(client: httpx.Client) -> None:
    document = client.get("/openapi.json").json()
    operation = document["paths"]["/decide"]["post"]
    (explain,) = [p for p in operation["parameters"] if p["name"] == "explain"]
    assert explain["in"] == "query" and explain["schema"]["type"] == "boolean"
    assert explain["required"] is False
    answer = operation["responses"]["200"]["content"]["application/json"]["schema"]
    name = answer["$ref"].rsplit("/", 1)[1]
    schemas = document["components"]["schemas"]
    explanation = schemas[name]["properties"]["explanation"]
    assert "explain=true" in explanation["description"]
    refs = re.findall(r"#/components/schemas/(\w+)", str(explanation))
    assert "Explanation" in refs
    assert {"rules", "obligations", "endpoints"} <= set(schemas["Explanation"]["properties"])


def test_policies_names_the_backend(client: httpx.Client) -> None:
    answer = client.get("/policies", headers=bearer(AUDITOR_KEY))
    assert answer.status_code == 200
    assert answer.json()["backend"] == "embedded"


def test_unknown_query_parameters_are_refused_like_unknown_body_fields(
    client: httpx.Client,
) -> None:
    body_field = client.post("/decide", json={"content": "hello", "explian": True})
    query = client.post("/decide", params={"explian": "true"}, json={"content": "hello"})
    assert body_field.status_code == query.status_code == 422
    assert body_field.json()["error"] == query.json()["error"] == "invalid_request"
    assert query.json()["details"] == [
        {
            "field": "query.explian",
            "problem": "unknown query parameter; the query parameters here are explain",
        }
    ]
    assert query.json()["message"] == (
        "query.explian: unknown query parameter; the query parameters here are explain"
    )
    assert set(body_field.json()["details"][0]) == set(query.json()["details"][0])
    several = client.post("/decide?a=1&b=2&explain=true", json={"content": "hello"})
    assert [d["field"] for d in several.json()["details"]] == ["query.a", "query.b"]
    twice = client.post("/decide?explain=true&explain=false", json={"content": "hello"})
    assert twice.status_code == 422
    assert twice.json()["details"] == [
        {"field": "query.explain", "problem": "given more than once"}
    ]
    assert client.post("/decide?explain=true", json={"content": "hello"}).status_code == 200
