"""The console's tools: chain status (verify on demand), replay against a candidate policy
directory known to the server, and the savings report.

Verify and replay are POSTs with the session's CSRF token: they read the whole log (or a
period of it) and are run one at a time per process.
"""

from __future__ import annotations

import threading
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from policy_engine.api.service import service_of
from policy_engine.audit.replay import ReplayReport, replay
from policy_engine.audit.savings import (
    baseline_endpoint,
    decisions_in,
    default_baseline,
    savings_from_log,
)
from policy_engine.audit.verify_log import verify_store
from policy_engine.catalog import Catalog
from policy_engine.console import charts
from policy_engine.console.config import Candidate
from policy_engine.console.decision_routes import period_links
from policy_engine.console.guard import Viewer, checked_form, console_of, from_log, viewer
from policy_engine.console.overview import SEGMENTS
from policy_engine.console.pages import days_ago, page
from policy_engine.console.query import period_query
from policy_engine.errors import ConfigError, PolicyEngineError
from policy_engine.logs import get_logger
from policy_engine.ports import AuditReader
from policy_engine.records import AuditFilters

log = get_logger("policy_engine.console")
router = APIRouter(prefix="/ui", include_in_schema=False)
SignedIn = Annotated[Viewer, Depends(viewer)]

#: One verification and one replay at a time in this process (each reads the whole log).
_VERIFYING = threading.Lock()
_REPLAYING = threading.Lock()
BUSY = "another {} is running now; try again when it has finished"


# --------------------------------------------------------------------------- chain


def _chain_state(reader: AuditReader) -> dict[str, Any]:
    checkpoints = reader.checkpoints()
    return {
        "head": reader.head(),
        "count": reader.count(),
        "checkpoints": len(checkpoints),
        "last_checkpoint": checkpoints[-1] if checkpoints else None,
    }


@router.get("/chain")
async def chain_page(request: Request, user: SignedIn) -> Response:
    state = await from_log(_chain_state, service_of(request).reader)
    context = {"title": "Chain", "viewer": user, **state, "report": None, "busy": None}
    return page(request, "chain.html", context)


@router.post("/chain")
async def chain_verify(request: Request, user: SignedIn) -> Response:
    await checked_form(request, user)
    reader = service_of(request).reader
    keys = console_of(request).trusted_keys
    context: dict[str, Any] = {"title": "Chain", "viewer": user, "report": None, "busy": None}
    if not _VERIFYING.acquire(blocking=False):
        context["busy"] = BUSY.format("verification")
    else:
        try:
            # The service's checkpoint settings, so a missing checkpoint is judged as it
            # would be by `audit verify` against this store.
            policy = getattr(reader, "checkpoint_policy", None)
            context["report"] = await from_log(verify_store, reader, keys, policy=policy)
        finally:
            _VERIFYING.release()
        report = context["report"]
        log.info(
            "console_verify",
            key_id=user.principal.key_id,
            ok=report.ok,
            records=report.count,
            problem=report.problem,
        )
    context.update(await from_log(_chain_state, reader))
    return page(request, "chain.html", context, status=200 if context["busy"] is None else 409)


# --------------------------------------------------------------------------- replay


def run_replay(
    reader: AuditReader, catalog: Catalog, candidate: Candidate, window: AuditFilters
) -> ReplayReport:
    """The existing replay over the decisions of ``window`` under ``candidate``'s policies."""
    from policy_engine.policy import EmbeddedEvaluator, load_policy_set
    from policy_engine.policy.input_paths import input_members_read

    policy_set = load_policy_set(candidate.path, {"catalog": catalog.policy_data()})
    return replay(
        decisions_in(reader, window),
        EmbeddedEvaluator(policy_set),
        members_read=input_members_read(policy_set.modules),
    )


def _replay_context(request: Request, user: Viewer, values: dict[str, str]) -> dict[str, Any]:
    return {
        "title": "Replay",
        "viewer": user,
        "candidates": [c.name for c in console_of(request).candidates],
        "values": values,
        "problems": {},
        "report": None,
        "error": None,
    }


@router.get("/replay")
async def replay_page(request: Request, user: SignedIn) -> Response:
    values = {"candidate": "", "since": days_ago(7)[:10], "until": ""}
    return page(request, "replay.html", _replay_context(request, user, values))


@router.post("/replay")
async def replay_run(request: Request, user: SignedIn) -> Response:
    form = await checked_form(request, user)
    console = console_of(request)
    query = period_query(form, None, extra=("candidate",))
    context = _replay_context(request, user, query.values)
    candidate = console.candidate(query.values["candidate"])
    if candidate is None:
        query.problems["candidate"] = "pick one of the candidate directories listed"
    if not query.values["since"]:
        query.problems["since"] = "give the first day to replay (e.g. 2026-11-01)"
    context["problems"] = query.problems
    if candidate is None or not query.ok:
        return page(request, "replay.html", context, status=400)
    if not _REPLAYING.acquire(blocking=False):
        context["error"] = BUSY.format("replay")
        return page(request, "replay.html", context, status=409)
    try:
        report = await from_log(
            run_replay, service_of(request).reader, console.catalog, candidate, query.filters
        )
    except PolicyEngineError as exc:
        context["error"] = f"the candidate {candidate.name} cannot be used: {exc}"
        return page(request, "replay.html", context, status=422)
    finally:
        _REPLAYING.release()
    log.info(
        "console_replay",
        key_id=user.principal.key_id,
        candidate=candidate.name,
        considered=report.considered,
        changed=report.changed,
    )
    context["report"] = report.to_dict()
    return page(request, "replay.html", context)


# --------------------------------------------------------------------------- savings


@router.get("/savings")
async def savings_page(request: Request, user: SignedIn) -> Response:
    console = console_of(request)
    query = period_query(request.query_params, days_ago(30)[:10], extra=("baseline",))
    baseline = query.values["baseline"] or None
    try:
        baseline_endpoint(console.catalog, baseline)
    except ConfigError:
        query.problems["baseline"] = "pick an endpoint of the catalog"
    context: dict[str, Any] = {
        "title": "Savings",
        "viewer": user,
        "query": query,
        "periods": period_links("/ui/savings"),
        "endpoints": [e.id for e in console.catalog.endpoints],
        "default_baseline": default_baseline(console.catalog).id,
        "segments": SEGMENTS,
        "report": None,
        "chart": None,
    }
    if not query.ok:
        return page(request, "savings.html", context, status=400)
    report = await from_log(
        savings_from_log, service_of(request).reader, console.catalog, query.filters, baseline
    )
    context.update(
        report=report, chart=charts.savings_by_segment(report) if report.total.decisions else None
    )
    return page(request, "savings.html", context)
