"""``policy-engine audit savings``: what routing saved against one baseline endpoint.

Registered under the ``audit`` group by :mod:`policy_engine.cli`; the report itself is
:mod:`policy_engine.audit.savings` (the console's savings page shows the same one).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import click

from policy_engine.cli.audit import filter_options, make_filters, open_store
from policy_engine.cli.support import fail, settings_or_fail
from policy_engine.errors import ConfigError

if TYPE_CHECKING:
    from policy_engine.audit.savings import SavingsReport


@click.command("savings")
@filter_options(["since", "until"])
@click.option(
    "--baseline",
    default=None,
    metavar="ENDPOINT",
    help="Catalog endpoint to compare with (default: the most expensive hosted one).",
)
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text")
def savings(since: str | None, until: str | None, baseline: str | None, fmt: str) -> None:
    """Estimated cost of the endpoints chosen against sending everything to a baseline.

    Uses the endpoint the routing proxy says answered, with its measured tokens, where a
    delivery record exists; otherwise the recommended endpoint with estimated tokens
    (characters / 4 in, max_output_tokens or 512 out). Prices come from PE_CATALOG.
    """
    from policy_engine.audit.savings import baseline_endpoint, savings_from_log
    from policy_engine.catalog import load_catalog

    settings = settings_or_fail()
    window = make_filters(since=since, until=until)
    try:
        catalog = load_catalog(settings.catalog)
    except ConfigError as exc:
        fail(str(exc))
    try:
        baseline_endpoint(catalog, baseline)
    except ConfigError as exc:
        fail(f"--baseline: {exc}")
    with open_store(settings) as store:
        report = savings_from_log(store, catalog, window, baseline)
    if fmt == "json":
        click.echo(json.dumps(report.to_dict(), indent=2))
    else:
        click.echo(savings_text(report))


def savings_text(report: SavingsReport) -> str:
    """The report for people: totals, the splits, tokens and what compliance cost."""
    from policy_engine.audit.savings import usd

    data = report.to_dict()
    counts = data["decisions"]
    period = f"from {report.since or 'the start'} to {report.until or 'now'}"
    price_in, price_out = report.baseline_price
    lines = [
        f"savings {period}",
        f"baseline: {report.baseline} ({usd(price_in, 2)}/{usd(price_out, 2)} per Mtok in/out)",
        f"{counts['considered']} decisions: {counts['priced']} priced"
        f" ({counts['delivered']} with a delivery record), {counts['no_endpoint']} with no"
        f" endpoint allowed, {counts['undelivered']} not delivered (every attempt failed)",
    ]
    if report.unpriced:
        unpriced = ", ".join(f"{e} ({n})" for e, n in sorted(report.unpriced.items()))
        lines.append(f"not in the catalog, left out: {unpriced}")
    total = report.total
    lines.append(
        f"chosen {usd(total.chosen_usd)}  baseline {usd(total.baseline_usd)}  saved"
        f" {usd(total.saved_usd)}{_percent(total.saved_percent)}"
    )
    for title, table in (
        ("by segment", report.by_segment),
        ("by tier", report.by_tier),
        ("by endpoint", report.by_endpoint),
    ):
        lines.append(title + ":")
        width = max((len(name) for name in table), default=0)
        for name, line in sorted(table.items()):
            lines.append(
                f"  {name:<{width}}  {line.decisions:>6}  chosen {usd(line.chosen_usd):>12}"
                f"  baseline {usd(line.baseline_usd):>12}  saved {usd(line.saved_usd):>12}"
                f"{_percent(line.saved_percent)}"
            )
    measured, estimated = report.measured, report.estimated
    lines.append(
        f"tokens: measured for {measured.decisions} decisions ({measured.input_tokens} in,"
        f" {measured.output_tokens} out, as the upstream reported);"
        f" estimated for {estimated.decisions} ({estimated.input_tokens} in,"
        f" {estimated.output_tokens} out: characters / 4, max_output_tokens or 512)"
    )
    kept = report.kept_from_cheaper
    causes = ", ".join(f"{cause} {n}" for cause, n in sorted(kept.by_cause.items()))
    lines.append(
        f"kept from a cheaper endpoint by compliance: {kept.decisions} decisions"
        + (f" ({causes})" if causes else "")
        + f", costing {usd(kept.extra_usd)} more than the cheapest endpoint"
        + (f"; e.g. {', '.join(kept.examples)}" if kept.examples else "")
    )
    return "\n".join(lines)


def _percent(value: Any) -> str:
    return "" if value is None else f" ({value}%)"
