"""Who may see the console, and what a form must carry.

Every page needs a signed-in session (:data:`~.sessions.SESSION_COOKIE`) whose key is
still usable and has the ``auditor`` or ``admin`` role; otherwise :class:`ConsoleDenied`
answers a page that says why (401: sign in; 403: this key's role may not). Forms are
``application/x-www-form-urlencoded`` POSTs carrying the CSRF token of the session.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import parse_qsl

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from policy_engine.access import Principal, Role
from policy_engine.api.service import service_of
from policy_engine.console.config import ConsoleConfig
from policy_engine.console.sessions import SESSION_COOKIE, Session
from policy_engine.errors import AuditError
from policy_engine.logs import get_logger

log = get_logger("policy_engine.console")
T = TypeVar("T")

#: The roles the console admits.
CONSOLE_ROLES: tuple[Role, ...] = ("auditor", "admin")
#: The largest form body read, in bytes.
MAX_FORM_BYTES = 16 * 1024


class ConsoleDenied(Exception):
    """A request the console refuses: the page says ``message`` with ``status``."""

    def __init__(self, status: int, title: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.title = title
        self.message = message


@dataclass(frozen=True)
class Viewer:
    """The person signed in: their key's principal, their session and its CSRF token."""

    principal: Principal
    session: Session
    csrf: str


def console_of(request: Request) -> ConsoleConfig:
    console = service_of(request).console
    if console is None:
        raise ConsoleDenied(503, "Console off", "this service was started without its console")
    return console


def denied_role(principal: Principal) -> ConsoleDenied:
    return ConsoleDenied(
        403,
        "Not allowed",
        f"Key {principal.key_id} has the role {principal.role}; the console is for auditor"
        " and admin keys. Sign in with one of those.",
    )


async def viewer(request: Request) -> Viewer:
    """The signed-in viewer of ``request`` (a FastAPI dependency), or :class:`ConsoleDenied`."""
    console = console_of(request)
    token = request.cookies.get(SESSION_COOKIE, "")
    session = console.sessions.read(token) if token else None
    if session is None:
        raise ConsoleDenied(
            401,
            "Sign in",
            "Sign in with an auditor or admin key to see this page."
            if not token
            else "Your session has ended; sign in again.",
        )
    principal = service_of(request).keyring.principal(session.key_id)
    if principal is None:
        raise ConsoleDenied(
            401, "Sign in", f"Key {session.key_id} is revoked or unknown now; sign in again."
        )
    if principal.role not in CONSOLE_ROLES:
        raise denied_role(principal)
    return Viewer(principal, session, console.sessions.csrf_token(session.sid))


async def read_form(request: Request) -> dict[str, str]:
    """The fields of a urlencoded form body (the last value of a repeated field)."""
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type != "application/x-www-form-urlencoded":
        raise ConsoleDenied(
            415, "Unsupported form", "send the form as application/x-www-form-urlencoded"
        )
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FORM_BYTES:
            raise ConsoleDenied(
                413, "Form too large", f"a form holds at most {MAX_FORM_BYTES} bytes"
            )
    try:
        return dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
    except (UnicodeDecodeError, ValueError):
        raise ConsoleDenied(400, "Unreadable form", "the form is not valid UTF-8") from None


def same_origin(request: Request) -> bool:
    """Whether the ``Origin`` header, when the browser sends one, is this service's."""
    origin = request.headers.get("origin")
    if origin is None or origin == "null":
        return origin is None
    host = request.headers.get("host", "")
    return origin in (f"http://{host}", f"https://{host}")


async def checked_form(request: Request, user: Viewer) -> dict[str, str]:
    """The form of a signed-in viewer's POST, after checking its CSRF token and origin."""
    form = await read_form(request)
    console = console_of(request)
    if not same_origin(request) or not console.sessions.csrf_valid(
        user.session.sid, form.get("csrf", "")
    ):
        raise ConsoleDenied(
            403,
            "Form refused",
            "This form did not come from your console session (its CSRF token is missing or"
            " wrong). Reload the page and send it again.",
        )
    return form


async def from_log(function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """``function(*args, **kwargs)`` in a worker thread (it reads the log); a log that
    cannot be read, or holds a record that is not one, gets a page saying so (503)."""
    try:
        return await run_in_threadpool(function, *args, **kwargs)
    except AuditError as exc:
        log.error("console_read_failed", error=str(exc))
        raise ConsoleDenied(
            503,
            "The log cannot be read",
            f"{exc}. The chain page's verification names what is wrong with the log.",
        ) from None
