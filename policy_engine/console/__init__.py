"""The auditors' console at ``/ui``: server-rendered pages over the audit log.

Sign in with an auditor or admin key (:mod:`.session_routes`); read the decisions, their
charts and details (:mod:`.decision_routes`); verify the chain, replay a candidate policy
set and see the savings report (:mod:`.tool_routes`). The console only reads the log: it
never decides. Its parts are built by the composition root (:func:`.config.build_console`)
and installed on the app by :func:`install_console`.
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.staticfiles import StaticFiles
from starlette.responses import Response

from policy_engine.console.decision_routes import router as decision_router
from policy_engine.console.guard import ConsoleDenied
from policy_engine.console.pages import STATIC_DIR
from policy_engine.console.session_routes import denied_page, not_found
from policy_engine.console.session_routes import router as session_router
from policy_engine.console.tool_routes import router as tool_router

__all__ = ["install_console"]


def install_console(app: FastAPI) -> None:
    """Add the console's pages, its stylesheet and its refusal pages to ``app``."""
    for router in (session_router, decision_router, tool_router):
        app.include_router(router)
    app.mount("/ui/static", StaticFiles(directory=STATIC_DIR), name="console-static")
    app.add_api_route("/ui/{rest:path}", not_found, methods=["GET"], include_in_schema=False)

    @app.exception_handler(ConsoleDenied)
    async def console_denied(request: Request, exc: ConsoleDenied) -> Response:
        return denied_page(request, exc)
