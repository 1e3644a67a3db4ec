"""``GET /audit/decisions`` and ``GET /audit/decisions/{id}``: the log, for auditors only.

Filters are :class:`~policy_engine.audit.filters.AuditFilters` as query parameters;
pages follow the log's order and continue with the opaque ``next_cursor``.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from policy_engine.access import Principal
from policy_engine.api.auth import require_role
from policy_engine.api.service import service_of
from policy_engine.audit.filters import DEFAULT_LIMIT, MAX_LIMIT, decode_cursor, encode_cursor
from policy_engine.errors import RequestError
from policy_engine.models import ErrorBody
from policy_engine.records import AuditFilters

_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorBody, "description": "No key or an unknown key"},
    403: {"model": ErrorBody, "description": "The key is not an auditor's"},
    422: {"model": ErrorBody, "description": "A filter, the cursor or the limit is invalid"},
    503: {"model": ErrorBody, "description": "The audit log cannot be read now"},
}

router = APIRouter(prefix="/audit", tags=["audit"], responses=_ERRORS)
Auditor = Annotated[Principal, Depends(require_role("auditor"))]


class InvalidCursor(RequestError):
    code = "invalid_cursor"


class DecisionsQuery(AuditFilters):
    cursor: str | None = Field(default=None, description="next_cursor of the previous page.")
    limit: int = Field(default=DEFAULT_LIMIT, ge=1, le=MAX_LIMIT)


class DecisionsPage(BaseModel):
    decisions: list[dict[str, Any]]
    next_cursor: str | None = Field(description="Pass as cursor for the next page; null: done.")


@router.get("/decisions", response_model=DecisionsPage, summary="Decisions matching filters")
async def list_decisions(
    request: Request, query: Annotated[DecisionsQuery, Query()], _: Auditor
) -> Any:
    try:
        after = decode_cursor(query.cursor) if query.cursor else 0
    except RequestError as exc:
        raise InvalidCursor(str(exc), [{"field": "cursor", "problem": str(exc)}]) from None
    filters = AuditFilters(**query.model_dump(exclude={"cursor", "limit"}))
    records = await run_in_threadpool(
        service_of(request).reader.query, filters, after_sequence=after, limit=query.limit
    )
    more = len(records) == query.limit
    return DecisionsPage(
        decisions=[record.document() for record in records],
        next_cursor=encode_cursor(records[-1].sequence or 0) if more else None,
    )


@router.get(
    "/decisions/{decision_id}",
    summary="One decision's audit record",
    responses={404: {"model": ErrorBody, "description": "No decision with this id"}},
)
async def get_decision(
    request: Request,
    decision_id: Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")],
    _: Auditor,
) -> Any:
    record = await run_in_threadpool(service_of(request).reader.get, decision_id)
    if record is None:
        body = ErrorBody(
            error="not_found", message=f"no decision with id {decision_id} in the audit log"
        )
        return JSONResponse(status_code=404, content=body.model_dump())
    return record.document()
