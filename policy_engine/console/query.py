"""The console's query parameters: filters of the decisions list and periods of the charts
and the savings report, read from a URL's query and checked field by field.

A bad value is a problem shown beside its field (the page answers 400), never a 500.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from policy_engine.audit.filters import decode_cursor
from policy_engine.errors import RequestError
from policy_engine.records import AuditFilters

#: Filters of :class:`AuditFilters` the list offers, in the form's order.
FILTER_FIELDS = (
    "since",
    "until",
    "segment",
    "outcome",
    "tenant",
    "application",
    "rule",
    "entity_type",
    "policy_revision",
)
PAGE_SIZES = (25, 50, 100, 200)
DEFAULT_PAGE_SIZE = 50


@dataclass
class Query:
    """What a page was asked: the values as typed (to fill the form again), the filters
    they make, and the problems found (field → what is wrong)."""

    values: dict[str, str]
    filters: AuditFilters = field(default_factory=AuditFilters)
    endpoint: str | None = None
    limit: int = DEFAULT_PAGE_SIZE
    after: int = 0
    problems: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.problems


def _filters(values: Mapping[str, str], names: tuple[str, ...], query: Query) -> None:
    given: dict[str, Any] = {name: values[name] for name in names if values.get(name)}
    try:
        query.filters = AuditFilters(**given)
    except ValidationError as exc:
        for error in exc.errors():
            name = str(error["loc"][0]) if error["loc"] else "filters"
            query.problems[name] = str(error["msg"]).removeprefix("Value error, ")
    since, until = query.filters.since, query.filters.until
    if not query.problems and since and until and since >= until:
        query.problems["until"] = "must be after 'since'"


def _clean(params: Mapping[str, str], names: tuple[str, ...]) -> dict[str, str]:
    return {name: params.get(name, "").strip() for name in names}


def list_query(params: Mapping[str, str]) -> Query:
    """The decisions list's filters, endpoint, page size and position."""
    values = _clean(params, (*FILTER_FIELDS, "endpoint", "limit", "cursor"))
    query = Query(values=values)
    _filters(values, FILTER_FIELDS, query)
    endpoint = values["endpoint"]
    if len(endpoint) > 200:
        query.problems["endpoint"] = "at most 200 characters"
    query.endpoint = endpoint or None
    values["limit"] = values["limit"] or str(DEFAULT_PAGE_SIZE)
    if values["limit"]:
        if values["limit"].isdigit() and int(values["limit"]) in PAGE_SIZES:
            query.limit = int(values["limit"])
        else:
            query.problems["limit"] = f"one of {', '.join(map(str, PAGE_SIZES))}"
    if values["cursor"]:
        try:
            query.after = decode_cursor(values["cursor"])
        except RequestError:
            query.problems["cursor"] = "not a page of this list; start from the first page"
    return query


def period_query(
    params: Mapping[str, str], default_since: str | None, extra: tuple[str, ...] = ()
) -> Query:
    """``since`` and ``until`` (``since`` defaults to ``default_since`` unless the query says
    ``since=`` or ``all``), plus the ``extra`` parameters as typed."""
    values = _clean(params, ("since", "until", *extra))
    if "since" not in params and default_since is not None:
        values["since"] = default_since
    if values["since"].lower() == "all":
        values["since"] = ""
    query = Query(values=values)
    _filters(values, ("since", "until"), query)
    return query
