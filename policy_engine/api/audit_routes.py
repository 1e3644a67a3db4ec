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
from policy_engine.audit.filters import (
    DEFAULT_LIMIT,
    MAX_LIMIT,
    AuditFilters,
    decode_cursor,
    encode_cursor,
)
from policy_engine.errors import AuditError, RequestError
from policy_engine.logs import get_logger
from policy_engine.models import ErrorBody
from policy_engine.ports import AuditStore

_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorBody, "description": "No key or an unknown key"},
    403: {"model": ErrorBody, "description": "The key is not an auditor's"},
    422: {"model": ErrorBody, "description": "A filter, the cursor or the limit is invalid"},
    503: {"model": ErrorBody, "description": "The audit log cannot be read now"},
}

log = get_logger("policy_engine.api.audit")
router = APIRouter(prefix="/audit", tags=["audit"], responses=_ERRORS)
Auditor = Annotated[Principal, Depends(require_role("auditor"))]


class DecisionsQuery(AuditFilters):
    cursor: str | None = Field(default=None, description="next_cursor of the previous page.")
    limit: int = Field(default=DEFAULT_LIMIT, ge=1, le=MAX_LIMIT)


class DecisionsPage(BaseModel):
    decisions: list[dict[str, Any]]
    next_cursor: str | None = Field(description="Pass as cursor for the next page; null: done.")


def _store(request: Request) -> AuditStore:
    store: AuditStore = request.app.state.engine.audit_store
    return store


def _error(status: int, code: str, message: str) -> JSONResponse:
    body = ErrorBody(error=code, message=message)
    return JSONResponse(status_code=status, content=body.model_dump())


def _unavailable() -> JSONResponse:
    log.error("audit_read_failed")
    return _error(503, "audit_unavailable", "the audit log cannot be read now; retry later")


@router.get("/decisions", response_model=DecisionsPage, summary="Decisions matching filters")
async def list_decisions(
    request: Request, query: Annotated[DecisionsQuery, Query()], _: Auditor
) -> Any:
    try:
        after = decode_cursor(query.cursor) if query.cursor else 0
    except RequestError as exc:
        return _error(422, "invalid_cursor", str(exc))
    filters = AuditFilters(**query.model_dump(exclude={"cursor", "limit"}))
    try:
        records = await run_in_threadpool(
            _store(request).query, filters, after_sequence=after, limit=query.limit
        )
    except AuditError:
        return _unavailable()
    more = len(records) == query.limit
    return DecisionsPage(
        decisions=records,
        next_cursor=encode_cursor(records[-1]["sequence"]) if more else None,
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
    try:
        record = await run_in_threadpool(_store(request).get, decision_id)
    except AuditError:
        return _unavailable()
    if record is None:
        return _error(404, "not_found", f"no decision with id {decision_id} in the audit log")
    return record
