"""Rendering the console's pages: one Jinja2 environment over ``templates/``, the filters
the templates share, and the headers every page carries.

Pages use no JavaScript at all (the Content-Security-Policy forbids scripts), load nothing
from elsewhere, and are never cached: they show audit data to a signed-in person.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import jinja2
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from policy_engine.audit.savings import exact, usd
from policy_engine.records import utc_text

PACKAGE_DIR = Path(__file__).resolve().parent
TEMPLATES_DIR = PACKAGE_DIR / "templates"
STATIC_DIR = PACKAGE_DIR / "static"

#: The navigation bar: (path, label).
NAV = [
    ("/ui", "Overview"),
    ("/ui/decisions", "Decisions"),
    ("/ui/chain", "Chain"),
    ("/ui/replay", "Replay"),
    ("/ui/savings", "Savings"),
]

SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self' 'unsafe-inline'; img-src 'self' data:;"
        " form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "Cache-Control": "no-store",
    # same-origin, not no-referrer: with no-referrer browsers send "Origin: null" on the
    # forms' POSTs, and the origin check refuses them.
    "Referrer-Policy": "same-origin",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
}


def _short(value: str | None, length: int = 12) -> str:
    if not value:
        return ""
    head, sep, tail = value.partition(":")
    digits = tail if sep else head
    return (f"{head}:" if sep else "") + digits[:length] + ("…" if len(digits) > length else "")


def _moment(value: str | None) -> str:
    """A log time for people: ``2026-11-22 10:04:05 UTC``."""
    return f"{value[:10]} {value[11:19]} UTC" if value and len(value) >= 19 else (value or "")


def _usd(value: Decimal | None, places: int = 4) -> str:
    return "" if value is None else usd(value, places)


ENVIRONMENT = jinja2.Environment(
    loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
ENVIRONMENT.filters.update(short=_short, moment=_moment, usd=_usd, exact=exact)


def render(request: Request, template: str, context: Mapping[str, Any]) -> str:
    page = ENVIRONMENT.get_template(template)
    defaults = {"request": request, "nav": NAV, "path": request.url.path, "viewer": None}
    return page.render({**defaults, **context})


def page(
    request: Request, template: str, context: Mapping[str, Any], *, status: int = 200
) -> HTMLResponse:
    """``template`` rendered with ``context`` as an HTML response with the console's headers."""
    response = HTMLResponse(render(request, template, context), status_code=status)
    secure(response)
    return response


def secure(response: Response) -> Response:
    response.headers.update(SECURITY_HEADERS)
    return response


def days_ago(days: int) -> str:
    """The log's time text of midnight UTC ``days`` days ago (a default period's start)."""
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return utc_text(today - timedelta(days=days))


def minutes_ago(days: int) -> str:
    """``days`` days before now, to the minute, as a period's ``since`` (``…T10:04Z``)."""
    return (datetime.now(UTC) - timedelta(days=days)).strftime("%Y-%m-%dT%H:%MZ")
