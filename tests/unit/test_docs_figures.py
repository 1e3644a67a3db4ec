"""The figures the docs quote agree with each other: the audit speeds in the README and in
docs/audit.md, and the README's latency rows say when NER was skipped, as
docs/performance.md counts it."""

from __future__ import annotations

import re

from tests.conftest import ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")
AUDIT = (ROOT / "docs" / "audit.md").read_text(encoding="utf-8")
PERFORMANCE = (ROOT / "docs" / "performance.md").read_text(encoding="utf-8")
POLICIES = (ROOT / "docs" / "policies.md").read_text(encoding="utf-8")


def figures(text: str, unit: str) -> set[str]:
    return set(re.findall(rf"([\d,]+) {unit}", text))


def test_audit_speeds_agree_between_readme_and_audit_doc() -> None:
    verify = figures(re.sub(r"\s+", " ", AUDIT), "records/s")
    replay = figures(re.sub(r"\s+", " ", AUDIT), "decisions/s")
    readme = re.sub(r"\s+", " ", README)
    assert verify and replay
    assert re.search(rf"`audit verify` {next(iter(verify))} records/s", readme), verify
    assert re.search(
        rf"`replay` with the shipped policies {next(iter(replay))} decisions/s", readme
    )


def test_readme_rows_say_when_ner_was_skipped() -> None:
    skipped_everywhere = []
    for row in re.findall(r"^\| (\d+ KB|200 B) \|(.*)\|$", PERFORMANCE, re.MULTILINE):
        cells = [c.strip() for c in row[1].split("|")]
        if len(cells) < 5 or not re.fullmatch(r"\d+ / \d+", cells[4]):
            continue  # another table's row (the routing proxy's, say)
        skipped, total = (int(x) for x in cells[4].split(" / "))
        if skipped == total:
            skipped_everywhere.append(row[0])
    # docs/performance.md keeps earlier runs' tables too: every one says the same
    assert list(dict.fromkeys(skipped_everywhere)) == ["20 KB", "100 KB"]
    for workload in skipped_everywhere:
        assert f"| {workload} (NER skipped) |" in README
    assert "figures are for prompts where NER was skipped" in README


def test_shadow_start_up_cost_is_documented() -> None:
    section = POLICIES[POLICIES.index("What shadow mode costs at start-up") :]
    assert re.search(r"about [\d.]+ s of CPU", section[:400])
