"""The proxy's routes: ``POST /v1/chat/completions`` and ``GET /v1/models`` (gateway key
as ``Authorization: Bearer``, as the OpenAI SDK sends it).

A chat request is read within the service's body limit, decided by the engine (the
decision record is appended before anything leaves; no record, no forwarding: 503), then
forwarded (:class:`.forward.Proxy`). Every error is in OpenAI's shape. The routes are
left out of ``/openapi.json``: their contract is OpenAI's (docs/proxy.md).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response

from policy_engine.access import Principal
from policy_engine.api.auth import require_role
from policy_engine.api.body import read_json_object
from policy_engine.api.service import service_of
from policy_engine.errors import AccessError, PolicyEngineError
from policy_engine.proxy.chat_request import AUTO, parse_chat_call
from policy_engine.proxy.forward import Proxy
from policy_engine.proxy.openai_errors import ProxyError, error_response, from_engine_error

router = APIRouter(prefix="/v1", tags=["proxy"], include_in_schema=False)
_gateway = require_role("gateway")


def proxy_of(request: Request) -> Proxy:
    proxy: Proxy = request.app.state.proxy
    return proxy


def _caller(request: Request) -> Principal:
    """The gateway key's principal; counts refused keys like every other route."""
    try:
        return _gateway(request, None)
    except AccessError as exc:
        metrics = service_of(request).metrics
        if metrics is not None:
            metrics.auth_failed(exc.status, exc.code)
        raise


@router.post("/chat/completions")
async def chat_completions(request: Request) -> Response:
    service = service_of(request)
    proxy = proxy_of(request)
    try:
        principal = _caller(request)
        call = parse_chat_call(
            await read_json_object(request, service.max_body_bytes), request.headers
        )
        if call.requested_endpoint is not None and (
            service.engine.catalog.by_id(call.requested_endpoint) is None
        ):
            raise ProxyError(
                404,
                "invalid_request_error",
                "model_not_found",
                f"model {call.model!r} is neither {AUTO!r} nor a catalog endpoint;"
                " GET /v1/models lists them",
            )
        decided = await run_in_threadpool(
            service.engine.decide_recorded, call.decide_request(), caller=principal.key_id
        )
    except ProxyError as exc:
        return error_response(exc)
    except PolicyEngineError as exc:
        return error_response(from_engine_error(exc))
    return await proxy.forward(call, decided)


@router.get("/models")
async def list_models(request: Request) -> Response:
    """``auto`` and every catalog endpoint the proxy can reach, OpenAI's list shape."""
    try:
        _caller(request)
    except AccessError as exc:
        return error_response(from_engine_error(exc))
    proxy = proxy_of(request)
    catalog = service_of(request).engine.catalog
    data: list[dict[str, Any]] = [
        {"id": AUTO, "object": "model", "created": 0, "owned_by": "policy-engine"}
    ]
    for endpoint in catalog.endpoints:
        if endpoint.id in proxy.targets:
            data.append(
                {
                    "id": endpoint.id,
                    "object": "model",
                    "created": 0,
                    "owned_by": endpoint.vendor,
                    "name": endpoint.name,
                    "deployment": endpoint.deployment,
                    "tier": endpoint.tier,
                    "context_window": endpoint.context_window,
                }
            )
    return JSONResponse({"object": "list", "data": data})


@router.api_route("/{path:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
async def not_served(path: str) -> Response:
    return error_response(
        ProxyError(
            404,
            "invalid_request_error",
            "unknown_url",
            f"/v1/{path} is not served; the proxy serves POST /v1/chat/completions and"
            " GET /v1/models",
        )
    )
