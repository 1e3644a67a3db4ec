"""Signing in and out of the console.

``GET /ui/sign-in`` shows a form (and sets the form's nonce cookie); ``POST /ui/sign-in``
takes the key from the form body (never from the URL), checks it, and sets the session
cookie, which holds the session id and the key's id, never the key. ``POST /ui/sign-out``
ends the session. Failed sign-ins are logged with the reason, never the key.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from starlette.responses import RedirectResponse, Response

from policy_engine.api.service import service_of
from policy_engine.console.guard import (
    CONSOLE_ROLES,
    ConsoleDenied,
    Viewer,
    checked_form,
    console_of,
    denied_role,
    read_form,
    same_origin,
    viewer,
)
from policy_engine.console.pages import page, secure
from policy_engine.console.sessions import SESSION_COOKIE, SIGN_IN_COOKIE, SIGN_IN_SECONDS
from policy_engine.logs import get_logger

log = get_logger("policy_engine.console")
router = APIRouter(prefix="/ui", include_in_schema=False)


def safe_next(target: str | None) -> str:
    """Where to go after signing in: a console path, never another site."""
    if target and target.startswith("/ui") and not target.startswith("//") and "\\" not in target:
        return target
    return "/ui"


def _cookie(response: Response, request: Request, name: str, value: str, max_age: int) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path="/ui",
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )


def _forget(response: Response, request: Request, name: str) -> None:
    _cookie(response, request, name, "", 0)


def sign_in_page(
    request: Request, *, status: int = 200, message: str = "", next_path: str = "/ui"
) -> Response:
    """The sign-in form, bound to the nonce of the browser's sign-in cookie (a new one
    when it has none valid, set on the answer)."""
    console = console_of(request)
    token = request.cookies.get(SIGN_IN_COOKIE, "")
    nonce = console.sessions.read_nonce(token) if token else None
    if nonce is None:  # else reuse it: another tab's form stays valid
        nonce, token = console.sessions.sign_in_nonce()
    response = page(
        request,
        "sign_in.html",
        {
            "title": "Sign in",
            "message": message,
            "csrf": console.sessions.csrf_token(nonce),
            "next": safe_next(next_path),
        },
        status=status,
    )
    _cookie(response, request, SIGN_IN_COOKIE, token, SIGN_IN_SECONDS)
    return response


@router.get("/sign-in")
async def sign_in_form(request: Request) -> Response:
    if request.query_params:
        # A key must never travel in a URL (it would land in histories and proxy logs).
        return sign_in_page(
            request,
            status=400,
            message="This page takes no parameters: type the key into the form below.",
        )
    return sign_in_page(request)


@router.post("/sign-in")
async def sign_in(request: Request) -> Response:
    console = console_of(request)
    form = await read_form(request)
    nonce = console.sessions.read_nonce(request.cookies.get(SIGN_IN_COOKIE, ""))
    next_path = safe_next(form.get("next"))
    if (
        nonce is None
        or not same_origin(request)
        or not console.sessions.csrf_valid(nonce, form.get("csrf", ""))
    ):
        log.info("console_sign_in_refused", reason="csrf")
        return sign_in_page(
            request,
            status=403,
            message="The sign-in form expired or did not come from this console; try again.",
            next_path=next_path,
        )
    key = form.get("key", "").strip()
    if not key:
        return sign_in_page(request, status=401, message="Type an API key.", next_path=next_path)
    principal = service_of(request).keyring.authenticate(key)
    del key, form
    if principal is None:
        log.info("console_sign_in_refused", reason="unknown_key")
        return sign_in_page(
            request,
            status=401,
            message="That key is unknown or revoked.",
            next_path=next_path,
        )
    if principal.role not in CONSOLE_ROLES:
        log.info("console_sign_in_refused", reason="role", key_id=principal.key_id)
        raise denied_role(principal)
    _, token = console.sessions.issue(principal.key_id)
    log.info("console_signed_in", key_id=principal.key_id, role=principal.role)
    response = RedirectResponse(next_path, status_code=303)
    _cookie(response, request, SESSION_COOKIE, token, console.sessions.lifetime_seconds)
    _forget(response, request, SIGN_IN_COOKIE)
    return secure(response)


@router.post("/sign-out")
async def sign_out(request: Request, user: Annotated[Viewer, Depends(viewer)]) -> Response:
    await checked_form(request, user)
    console_of(request).sessions.end(user.session)
    log.info("console_signed_out", key_id=user.principal.key_id)
    response = sign_in_page(request, message="You are signed out.")
    _forget(response, request, SESSION_COOKIE)
    return response


def denied_page(request: Request, exc: ConsoleDenied) -> Response:
    """The page of a refused request: the sign-in form for 401, an explanation otherwise."""
    if exc.status == 401:
        query = f"?{request.url.query}" if request.url.query else ""
        target = request.url.path + query if request.method == "GET" else "/ui"
        response = sign_in_page(request, status=401, message=exc.message, next_path=target)
        response.headers["WWW-Authenticate"] = 'Cookie realm="policy-engine console"'
        return response
    return page(
        request,
        "denied.html",
        {"title": exc.title, "message": exc.message, "status": exc.status},
        status=exc.status,
    )


async def not_found(request: Request) -> Response:
    """Any other page under /ui: a page saying so (registered after every console route)."""
    return page(
        request,
        "denied.html",
        {"title": "Not found", "message": "There is no such console page.", "status": 404},
        status=404,
    )
