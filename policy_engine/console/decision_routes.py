"""The console's reading pages: the overview (charts), the decisions list, one decision.

Every page only reads the log (``service_of(request).reader``) in a worker thread.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Path, Request
from starlette.responses import Response

from policy_engine.api.service import service_of
from policy_engine.audit.filters import encode_cursor
from policy_engine.audit.savings import decisions_in, deliveries_since
from policy_engine.console import charts
from policy_engine.console.guard import Viewer, console_of, from_log, viewer
from policy_engine.console.listing import decisions_page, deliveries_of, neighbours
from policy_engine.console.overview import MAX_RECORDS, SEGMENTS, overview
from policy_engine.console.pages import days_ago, minutes_ago, page
from policy_engine.console.query import PAGE_SIZES, list_query, period_query
from policy_engine.models import Segment

router = APIRouter(prefix="/ui", include_in_schema=False)
SignedIn = Annotated[Viewer, Depends(viewer)]

#: Quick periods offered above the charts: (label, days back; None: everything).
PERIODS = [("24 hours", 1), ("7 days", 7), ("30 days", 30), ("all", None)]
DEFAULT_DAYS = 7


def period_links(path: str) -> list[tuple[str, str]]:
    return [
        (label, f"{path}?since={minutes_ago(days) if days is not None else 'all'}")
        for label, days in PERIODS
    ]


@router.get("")
async def overview_page(request: Request, user: SignedIn) -> Response:
    query = period_query(request.query_params, days_ago(DEFAULT_DAYS)[:10])
    context: dict[str, Any] = {
        "title": "Overview",
        "viewer": user,
        "query": query,
        "periods": period_links("/ui"),
    }
    if not query.ok:
        return page(request, "overview.html", context, status=400)
    reader = service_of(request).reader

    def count() -> tuple[Any, dict[str, Any]]:
        data = overview(
            decisions_in(reader, query.filters),
            deliveries_since(reader, query.filters.since),
            MAX_RECORDS,
        )
        return data, reader.stats(query.filters, top=10)

    data, stats = await from_log(count)
    labels, series = data.over_time()
    context.update(
        data=data,
        stats=stats,
        segments=SEGMENTS,
        over_time_rows=[
            [label, *(series[segment][i] for segment in SEGMENTS)] for i, label in enumerate(labels)
        ],
        charts={
            "segments": charts.segments_over_time(data),
            "rules": charts.top_counts("Top rules (decisions they fired in)", data.rules),
            "entities": charts.top_counts(
                "Findings by type (decisions they were found in)", data.entity_types
            ),
            "endpoints": charts.top_counts("Endpoints recommended", data.recommended),
            "answered": charts.top_counts("Endpoints that answered", data.answered)
            if data.answered
            else None,
        },
    )
    return page(request, "overview.html", context)


@router.get("/decisions")
async def decisions_list(request: Request, user: SignedIn) -> Response:
    query = list_query(request.query_params)
    console = console_of(request)
    context: dict[str, Any] = {
        "title": "Decisions",
        "viewer": user,
        "query": query,
        "segments": [s.value for s in Segment],
        "endpoints": [e.id for e in console.catalog.endpoints],
        "page_sizes": PAGE_SIZES,
        "page": None,
        "next_url": None,
        "first_url": None,
    }
    if not query.ok:
        return page(request, "decisions.html", context, status=400)
    reader = service_of(request).reader
    found = await from_log(
        decisions_page,
        reader,
        query.filters,
        endpoint=query.endpoint,
        after=query.after,
        limit=query.limit,
    )
    context["page"] = found
    params = {k: v for k, v in query.values.items() if v and k != "cursor"}
    context["first_url"] = "/ui/decisions?" + urlencode(params)
    if found.next_after is not None:
        params["cursor"] = encode_cursor(found.next_after)
        context["next_url"] = "/ui/decisions?" + urlencode(params)
    return page(request, "decisions.html", context)


@router.get("/decisions/{decision_id}")
async def decision_detail(
    request: Request,
    user: SignedIn,
    decision_id: Annotated[str, Path(max_length=64)],
) -> Response:
    reader = service_of(request).reader
    safe = decision_id.replace("-", "").replace("_", "").isalnum()
    record = await from_log(reader.get, decision_id) if safe else None
    if record is None:
        return page(
            request,
            "denied.html",
            {
                "title": "Not found",
                "status": 404,
                "viewer": user,
                "message": "No decision with this id in the audit log.",
            },
            status=404,
        )

    def around() -> tuple[Any, Any, tuple[int, str]]:
        return neighbours(reader, record), deliveries_of(reader, record), reader.head()

    near, deliveries, head = await from_log(around)
    catalog = console_of(request).catalog
    return page(
        request,
        "decision.html",
        {
            "title": f"Decision {record.decision_id}",
            "viewer": user,
            "record": record,
            "near": near,
            "deliveries": deliveries,
            "head": head,
            "endpoint_names": {e.id: e.name or e.id for e in catalog.endpoints},
            "deployments": {e.id: e.deployment for e in catalog.endpoints},
        },
    )
