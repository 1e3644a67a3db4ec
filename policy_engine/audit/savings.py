"""The savings report: what routing cost, against sending everything to one baseline endpoint.

For each decision of a period (delivery records are read only to learn what answered):

* **the endpoint chosen**: the one the routing proxy's delivery record says answered, with
  the upstream's measured tokens when it reported usage; else the decision's recommended
  endpoint with *estimated* tokens: content characters / 4 in (rounded up), the context's
  ``max_output_tokens`` or 512 out, as ranking estimates them;
* **its cost** at the catalog's prices, against the **baseline** endpoint's cost for the
  same tokens (default: the catalog's most expensive hosted endpoint); the baseline is
  what "send everything to one frontier model" would have cost, whether or not the
  policies allow that endpoint for the decision;
* split **by segment**, **by tier** (the delivery's tier, else the request context's, else
  the chosen endpoint's catalog tier, else ``untiered``) and **by endpoint**;
* **kept from cheaper endpoints**: decisions whose cheapest catalog endpoint able to hold
  them was excluded by the segment or by a policy (provenance, a failed evaluation ...),
  with what the cheapest allowed endpoint costs over it.

Left out of the costs, and counted: decisions with no endpoint to send to (nothing
allowed, e.g. failed closed), decisions whose delivery failed on every attempt (nothing
was bought), and decisions whose endpoint the catalog does not price. Arithmetic is exact:
prices are decimals as the catalog writes them, costs are sums of tokens times prices.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from pydantic import BaseModel

from policy_engine.catalog import DEFAULT_OUTPUT_TOKENS, Catalog, Endpoint, estimate_tokens
from policy_engine.errors import ConfigError
from policy_engine.ports import AuditReader
from policy_engine.records import AuditFilters, AuditRecord

MILLION = Decimal(1_000_000)
UNTIERED = "untiered"
#: The ``kind`` of the routing proxy's delivery records (absent: a decision record).
DELIVERY_KIND = "delivery"


# --------------------------------------------------------------------------- reading records


def field_of(value: Any, name: str) -> Any:
    """``name`` of a record part that may be a model (a field or an extra field) or a dict:
    the delivery record's fields arrive as extra data on stores older than their model."""
    if isinstance(value, Mapping):
        return value.get(name)
    if isinstance(value, BaseModel):
        if name in type(value).model_fields:
            return getattr(value, name)
        return value.model_extra.get(name) if value.model_extra else None
    return None


def as_mapping(value: Any) -> dict[str, Any] | None:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    return dict(value) if isinstance(value, Mapping) else None


def is_delivery(record: AuditRecord) -> bool:
    return bool(field_of(record, "kind") == DELIVERY_KIND)


def deliveries_by_decision(records: Iterable[AuditRecord]) -> dict[str, dict[str, Any]]:
    """The ``delivery`` part of each delivery record among ``records``, by the id of the
    decision it delivers (the last one when a decision has several)."""
    found: dict[str, dict[str, Any]] = {}
    for record in records:
        delivers = field_of(record, "delivers")
        delivery = as_mapping(field_of(record, "delivery"))
        if is_delivery(record) and isinstance(delivers, str) and delivery is not None:
            found[delivers] = delivery
    return found


def kind_filters(window: AuditFilters, kind: str) -> AuditFilters | None:
    """``window`` restricted to records of ``kind``, where the store knows kinds (None: it
    does not, and its queries return every record)."""
    if "kind" not in AuditFilters.model_fields:
        return None
    return window.model_copy(update={"kind": kind})


def deliveries_since(reader: AuditReader, since: str | None) -> dict[str, dict[str, Any]]:
    """The deliveries appended from ``since`` on, by decision id (a delivery is appended
    after its decision, maybe after the end of the period the decision is in)."""
    after = AuditFilters(since=since)
    return deliveries_by_decision(reader.iter_query(kind_filters(after, DELIVERY_KIND) or after))


def decisions_in(reader: AuditReader, window: AuditFilters) -> Iterator[AuditRecord]:
    """The decision records in ``window`` (never delivery records), in log order."""
    return (record for record in reader.iter_query(window) if not is_delivery(record))


# --------------------------------------------------------------------------- prices


def price_of(endpoint: Endpoint) -> tuple[Decimal, Decimal]:
    """USD per million input and output tokens, as exact decimals of the catalog's text."""
    return Decimal(str(endpoint.price.input_per_mtok)), Decimal(str(endpoint.price.output_per_mtok))


def default_baseline(catalog: Catalog) -> Endpoint:
    """The most expensive hosted endpoint (input plus output price per Mtok; the id breaks
    ties), or the most expensive endpoint when none is hosted."""
    hosted = [e for e in catalog.endpoints if e.deployment != "on_prem"] or catalog.endpoints
    return max(hosted, key=lambda e: (sum(price_of(e)), e.id))


def baseline_endpoint(catalog: Catalog, endpoint_id: str | None) -> Endpoint:
    if endpoint_id is None:
        return default_baseline(catalog)
    endpoint = catalog.by_id(endpoint_id)
    if endpoint is None:
        known = ", ".join(e.id for e in catalog.endpoints)
        raise ConfigError(f"baseline {endpoint_id!r} is not in the catalog (known: {known})")
    return endpoint


def usd(amount: Decimal, places: int = 4) -> str:
    """``amount`` rounded for people: ``$12.3457``."""
    return "$" + format(amount.quantize(Decimal(1).scaleb(-places), ROUND_HALF_UP), ",f")


def exact(amount: Decimal) -> str:
    """``amount`` in full, without exponent: what the JSON report carries."""
    text = format(amount, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


# --------------------------------------------------------------------------- the report


@dataclass
class Line:
    """Decisions of one group and what they cost, chosen and at the baseline."""

    decisions: int = 0
    chosen_usd: Decimal = Decimal(0)
    baseline_usd: Decimal = Decimal(0)

    @property
    def saved_usd(self) -> Decimal:
        return self.baseline_usd - self.chosen_usd

    @property
    def saved_percent(self) -> Decimal | None:
        """Saved over baseline, in percent rounded to 0.01 (None when the baseline is 0)."""
        if not self.baseline_usd:
            return None
        share = self.saved_usd * 100 / self.baseline_usd
        return share.quantize(Decimal("0.01"), ROUND_HALF_UP)

    def add(self, chosen: Decimal, baseline: Decimal) -> None:
        self.decisions += 1
        self.chosen_usd += chosen
        self.baseline_usd += baseline

    def to_dict(self) -> dict[str, Any]:
        percent = self.saved_percent
        return {
            "decisions": self.decisions,
            "chosen_usd": exact(self.chosen_usd),
            "baseline_usd": exact(self.baseline_usd),
            "saved_usd": exact(self.saved_usd),
            "saved_percent": None if percent is None else str(percent),
        }


@dataclass
class TokenCounts:
    decisions: int = 0
    input_tokens: int = 0
    output_tokens: int = 0

    def to_dict(self) -> dict[str, int]:
        return {
            "decisions": self.decisions,
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
        }


@dataclass
class KeptFromCheaper:
    """Decisions whose cheapest suitable endpoint compliance excluded, by cause
    (``segment``, or ``policy``: an exclusion rule or a failed policy evaluation)."""

    decisions: int = 0
    by_cause: Counter[str] = field(default_factory=Counter)
    #: What the cheapest allowed endpoints cost over the cheapest excluded ones.
    extra_usd: Decimal = Decimal(0)
    examples: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "decisions": self.decisions,
            "by_cause": dict(sorted(self.by_cause.items())),
            "extra_usd": exact(self.extra_usd),
            "examples": self.examples,
        }


EXAMPLES = 5


@dataclass
class SavingsReport:
    baseline: str
    baseline_price: tuple[Decimal, Decimal]
    since: str | None = None
    until: str | None = None
    considered: int = 0
    no_endpoint: int = 0
    undelivered: int = 0
    unpriced: Counter[str] = field(default_factory=Counter)
    total: Line = field(default_factory=Line)
    by_segment: dict[str, Line] = field(default_factory=dict)
    by_tier: dict[str, Line] = field(default_factory=dict)
    by_endpoint: dict[str, Line] = field(default_factory=dict)
    measured: TokenCounts = field(default_factory=TokenCounts)
    estimated: TokenCounts = field(default_factory=TokenCounts)
    delivered: int = 0
    kept_from_cheaper: KeptFromCheaper = field(default_factory=KeptFromCheaper)

    def to_dict(self) -> dict[str, Any]:
        def lines(table: dict[str, Line]) -> list[dict[str, Any]]:
            return [{"name": name, **line.to_dict()} for name, line in sorted(table.items())]

        return {
            "since": self.since,
            "until": self.until,
            "baseline": {
                "endpoint": self.baseline,
                "input_per_mtok": exact(self.baseline_price[0]),
                "output_per_mtok": exact(self.baseline_price[1]),
            },
            "decisions": {
                "considered": self.considered,
                "priced": self.total.decisions,
                "delivered": self.delivered,
                "no_endpoint": self.no_endpoint,
                "undelivered": self.undelivered,
                "unpriced": dict(sorted(self.unpriced.items())),
            },
            "total": self.total.to_dict(),
            "by_segment": lines(self.by_segment),
            "by_tier": lines(self.by_tier),
            "by_endpoint": lines(self.by_endpoint),
            "tokens": {"measured": self.measured.to_dict(), "estimated": self.estimated.to_dict()},
            "kept_from_cheaper": self.kept_from_cheaper.to_dict(),
        }


def estimated_tokens(record: AuditRecord) -> tuple[int, int]:
    """Input and output tokens as ranking estimates them for ``record``."""
    output = record.context.max_output_tokens
    return (
        estimate_tokens(record.content_characters),
        DEFAULT_OUTPUT_TOKENS if output is None else output,
    )


def measured_tokens(delivery: Mapping[str, Any] | None) -> tuple[int, int] | None:
    usage = field_of(delivery, "usage") if delivery is not None else None
    prompt, completion = field_of(usage, "prompt_tokens"), field_of(usage, "completion_tokens")
    if isinstance(prompt, int) and isinstance(completion, int):
        return prompt, completion
    return None


def tier_of(record: AuditRecord, delivery: Mapping[str, Any] | None, endpoint: Endpoint) -> str:
    for source in (delivery, record.context, endpoint):
        tier = field_of(source, "tier")
        if isinstance(tier, str) and tier:
            return tier
    return UNTIERED


class _Prices:
    """The catalog's endpoints by id, with their prices as decimals (read once)."""

    def __init__(self, catalog: Catalog) -> None:
        self.endpoints = {e.id: e for e in catalog.endpoints}
        self._prices = {e.id: price_of(e) for e in catalog.endpoints}

    def cost(self, endpoint: Endpoint, input_tokens: int, output_tokens: int) -> Decimal:
        price_in, price_out = self._prices[endpoint.id]
        return (input_tokens * price_in + output_tokens * price_out) / MILLION


class _Reporter:
    def __init__(self, catalog: Catalog, baseline: Endpoint, report: SavingsReport) -> None:
        self.prices = _Prices(catalog)
        self.baseline = baseline
        self.report = report

    def add(self, record: AuditRecord, delivery: Mapping[str, Any] | None) -> None:
        report = self.report
        report.considered += 1
        if delivery is not None:
            endpoint_id = field_of(delivery, "endpoint")
            if not isinstance(endpoint_id, str):
                report.undelivered += 1
                return
        else:
            endpoint_id = record.recommended_endpoint
            if endpoint_id is None:
                report.no_endpoint += 1
                return
        endpoint = self.prices.endpoints.get(endpoint_id)
        if endpoint is None:
            report.unpriced[endpoint_id] += 1
            return
        measured = measured_tokens(delivery)
        tokens = measured if measured is not None else estimated_tokens(record)
        counts = report.measured if measured is not None else report.estimated
        counts.decisions += 1
        counts.input_tokens += tokens[0]
        counts.output_tokens += tokens[1]
        report.delivered += delivery is not None
        chosen = self.prices.cost(endpoint, *tokens)
        baseline = self.prices.cost(self.baseline, *tokens)
        for table, key in (
            (report.by_segment, record.segment.value),
            (report.by_tier, tier_of(record, delivery, endpoint)),
            (report.by_endpoint, endpoint.id),
        ):
            table.setdefault(key, Line()).add(chosen, baseline)
        report.total.add(chosen, baseline)
        self.kept_from_cheaper(record, tokens)

    def kept_from_cheaper(self, record: AuditRecord, tokens: tuple[int, int]) -> None:
        """Whether the cheapest endpoint able to hold the decision was excluded by the
        segment or a policy (endpoints excluded only for their context window do not count,
        nor endpoints the record does not name)."""
        needed = sum(estimated_tokens(record))
        excluded = {e.id: e.reasons for e in record.excluded_endpoints}
        costs: dict[str, Decimal] = {}
        for endpoint_id in [*record.allowed_endpoints, *excluded]:
            endpoint = self.prices.endpoints.get(endpoint_id)
            if endpoint is not None and endpoint.context_window >= needed:
                costs[endpoint_id] = self.prices.cost(endpoint, *tokens)
        allowed = [costs[e] for e in record.allowed_endpoints if e in costs]
        if not costs or not allowed or min(allowed) <= min(costs.values()):
            return
        cheapest = min(costs.values())
        kept = self.report.kept_from_cheaper
        kept.decisions += 1
        kept.extra_usd += min(allowed) - cheapest
        causes = {
            _cause(reason)
            for endpoint_id, price in costs.items()
            if price == cheapest
            for reason in excluded.get(endpoint_id, [])
        }
        kept.by_cause.update(causes - {"capacity"})
        if len(kept.examples) < EXAMPLES:
            kept.examples.append(record.decision_id)


def _cause(reason: str) -> str:
    if reason.startswith("segment "):
        return "segment"
    if reason.startswith("context window"):
        return "capacity"
    return "policy"


def savings(
    decisions: Iterable[AuditRecord],
    deliveries: Mapping[str, Mapping[str, Any]],
    catalog: Catalog,
    *,
    baseline: str | None = None,
    since: str | None = None,
    until: str | None = None,
) -> SavingsReport:
    """The report over ``decisions``, with ``deliveries`` by decision id (see the module
    docstring); :class:`ConfigError` when ``baseline`` is not a catalog endpoint."""
    chosen_baseline = baseline_endpoint(catalog, baseline)
    report = SavingsReport(
        baseline=chosen_baseline.id,
        baseline_price=price_of(chosen_baseline),
        since=since,
        until=until,
    )
    reporter = _Reporter(catalog, chosen_baseline, report)
    for record in decisions:
        reporter.add(record, deliveries.get(record.decision_id))
    return report


def savings_from_log(
    reader: AuditReader, catalog: Catalog, window: AuditFilters, baseline: str | None = None
) -> SavingsReport:
    """:func:`savings` over the decisions of the log in ``window``."""
    baseline_endpoint(catalog, baseline)  # refuse an unknown baseline before reading the log
    return savings(
        decisions_in(reader, window),
        deliveries_since(reader, window.since),
        catalog,
        baseline=baseline,
        since=window.since,
        until=window.until,
    )
