"""The routing proxy: an OpenAI-compatible API (``/v1/chat/completions``, ``/v1/models``)
that decides every request with the engine, then forwards it to an allowed endpoint's
upstream, masking what the decision says to redact (docs/proxy.md).

An entry point on top of the engine: the core never imports it. Modules, each small:
:mod:`.routes` (HTTP), :mod:`.chat_request` (the OpenAI body in, the upstream body out),
:mod:`.plan` (which allowed endpoints, in which order), :mod:`.upstreams` (where each
endpoint's requests go; the httpx client), :mod:`.forward` (calls, fallback, answers),
:mod:`.relay` (server-sent events), :mod:`.masking` and :mod:`.split_restore`
(placeholders), :mod:`.sticky` (conversations), :mod:`.delivery` (the delivery record),
:mod:`.openai_errors`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI

from policy_engine.engine import Engine
from policy_engine.metrics import Metrics
from policy_engine.proxy.delivery import DeliveryRecorder
from policy_engine.proxy.forward import Proxy
from policy_engine.proxy.routes import router
from policy_engine.proxy.sticky import Conversations
from policy_engine.proxy.upstreams import UpstreamClient, build_targets
from policy_engine.settings import Settings

__all__ = ["Proxy", "install_proxy"]


def install_proxy(
    app: FastAPI, settings: Settings, engine: Engine, metrics: Metrics | None
) -> Proxy:
    """Serve the proxy's routes in ``app``; its upstream client closes with the app."""
    proxy = Proxy(
        targets=build_targets(engine.catalog, settings),
        client=UpstreamClient(
            connect_timeout=settings.upstream_connect_timeout, timeout=settings.upstream_timeout
        ),
        conversations=Conversations(settings.proxy_conversations),
        recorder=DeliveryRecorder(engine.audit_log, metrics),
        digest=engine.digester.digest,
        metrics=metrics,
    )
    app.state.proxy = proxy
    app.include_router(router)
    inner = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(application: Any) -> AsyncIterator[Mapping[str, Any] | None]:
        async with inner(application) as state:
            try:
                yield state
            finally:
                await proxy.client.close()

    app.router.lifespan_context = lifespan  # type: ignore[assignment]
    return proxy
