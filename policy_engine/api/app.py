"""The HTTP service: one router per audience, on a :class:`~.service.Service` built by the
composition root (:func:`policy_engine.bootstrap.build_service`).

* gateways: ``POST /decide`` (:mod:`.decide_routes`), LiteLLM's Generic Guardrail API
  ``POST /beta/litellm_basic_guardrail_api`` (:mod:`.guardrail_routes`);
* auditors: ``GET /audit/decisions…`` (:mod:`.audit_routes`);
* security teams and administrators: ``/policies…`` (:mod:`.policies`), ``/keys…``
  (:mod:`.keys_routes`);
* operators: ``/healthz``, ``/readyz``, ``/metrics`` (:mod:`.ops`);
* people auditing in a browser: the console at ``/ui`` (:mod:`policy_engine.console`).

Errors are answered in one shape from one table (:mod:`.errors`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from policy_engine.api.audit_routes import router as audit_router
from policy_engine.api.decide_routes import router as decide_router
from policy_engine.api.errors import install_error_handlers
from policy_engine.api.guardrail_routes import router as guardrail_router
from policy_engine.api.keys_routes import router as keys_router
from policy_engine.api.openapi import install_offline_docs, install_request_schemas
from policy_engine.api.ops import router as ops_router
from policy_engine.api.policies import router as policies_router
from policy_engine.api.request_context import RequestContextMiddleware
from policy_engine.api.service import Service
from policy_engine.console import install_console
from policy_engine.logs import get_logger
from policy_engine.version import __version__

__all__ = ["Service", "create_app"]

log = get_logger("policy_engine.api")


def create_app(service: Service) -> FastAPI:
    """The FastAPI application around an already-built service; shutting it down closes
    the engine (its scan workers and the audit store)."""

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        log.info("service_ready", policy_revision=service.engine.evaluator.revision)
        try:
            yield
        finally:
            log.info("service_stopping")
            service.engine.close()

    app = FastAPI(
        title="policy-engine",
        version=__version__,
        summary="Decides which LLM endpoints may receive a prompt, and audits every decision.",
        lifespan=lifespan,
        docs_url=None,  # served offline by install_offline_docs
        redoc_url=None,
    )
    app.state.service = service
    routers = (decide_router, guardrail_router, audit_router, policies_router, keys_router)
    for router in (*routers, ops_router):
        app.include_router(router)
    install_console(app)
    install_request_schemas(app)
    install_offline_docs(app)
    app.add_middleware(RequestContextMiddleware)
    metrics = service.metrics
    install_error_handlers(app, metrics.auth_failed if metrics is not None else None)
    return app
