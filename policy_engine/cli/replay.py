"""``policy-engine replay``: what a candidate policy set would change on past decisions."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from policy_engine.cli.audit import make_filters, open_store
from policy_engine.cli.support import fail, progress_bar, settings_or_fail
from policy_engine.errors import PolicyEngineError


@click.command()
@click.option(
    "--policies",
    "policies_dir",
    required=True,
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="The candidate policy directory.",
)
@click.option("--since", required=True, help="Replay decisions from this date or time on.")
@click.option("--until", default=None, help="... and before this date or time (exclusive).")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text")
@click.option(
    "--progress/--no-progress",
    default=None,
    help="Show progress on standard error (default: only on a terminal).",
)
def replay(
    policies_dir: Path, since: str, until: str | None, fmt: str, progress: bool | None
) -> None:
    """Re-evaluate recorded policy inputs under candidate policies; report what changes.

    Uses the embedded evaluator with the configured catalog (PE_CATALOG). Decisions whose
    detection timed out or failed are skipped (their findings are incomplete).
    """
    from policy_engine.audit.replay import replay as run_replay
    from policy_engine.bootstrap import load_policies
    from policy_engine.catalog import load_catalog
    from policy_engine.policy import EmbeddedEvaluator
    from policy_engine.policy.input_paths import input_members_read

    settings = settings_or_fail()
    window = make_filters(since=since, until=until)
    try:
        catalog = load_catalog(settings.catalog)
        policy_set = load_policies(settings, catalog, policies_dir)
        evaluator = EmbeddedEvaluator(policy_set)
    except PolicyEngineError as exc:
        fail(f"--policies {policies_dir}: {exc}")
    members = input_members_read(policy_set.modules)
    with open_store(settings) as store:
        bounds = store.sequence_range(window)
        total = 0 if bounds is None else bounds[1] - bounds[0] + 1
        with progress_bar("replaying", total, enabled=progress) as update:
            report = run_replay(
                store.iter_query(window),
                evaluator,
                progress=update,
                members_read=members,
            )
    result = {"since": window.since, "until": window.until, **report.to_dict()}
    if fmt == "json":
        click.echo(json.dumps(result, indent=2))
    else:
        click.echo(_text(result))


def _skipped(by_rule: dict[str, int]) -> str:
    from policy_engine.audit.replay import SKIPPED

    reasons = ", ".join(f"{SKIPPED[rule]}: {count}" for rule, count in by_rule.items() if count)
    return f"{sum(by_rule.values())} skipped" + (f" ({reasons})" if reasons else "")


def _text(result: dict[str, Any]) -> str:
    lines = [
        f"candidate policies {result['candidate_revision']}",
        f"{result['considered']} decisions since {result['since']}"
        + (f" until {result['until']}" if result["until"] else "")
        + f": {result['replayed']} replayed, {_skipped(result['skipped'])},"
        f" {result['errors']} errors",
        f"{result['changed']} would change",
    ]
    for change in result["transitions"]:
        lines.append(
            f"  {change['from']} -> {change['to']}: {change['count']}"
            f"  e.g. {', '.join(change['examples'])}"
        )
    if result["rules"]:
        lines.append("rules (in changed decisions):")
        lines.extend(
            f"  {r['rule']}: +{r['added']} newly firing, -{r['removed']} no longer firing"
            for r in result["rules"]
        )
    if result["by_tenant"]:
        lines.append("by tenant:")
        lines.extend(f"  {t['tenant']}: {t['changed']} changed" for t in result["by_tenant"])
    return "\n".join(lines)
