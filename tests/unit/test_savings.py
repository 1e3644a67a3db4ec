"""The savings report against the numbers computed by hand in tests/savings_support.py."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from policy_engine.audit.savings import (
    baseline_endpoint,
    default_baseline,
    deliveries_by_decision,
    exact,
    is_delivery,
    savings,
    usd,
)
from policy_engine.catalog import Catalog, load_catalog
from policy_engine.errors import ConfigError
from tests.savings_support import EXPECTED_TOTAL, savings_log

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog(ROOT / "examples" / "catalog.yaml")


def report_of(catalog: Catalog, baseline: str | None = None) -> dict[str, Any]:
    records = savings_log()
    decisions = [r for r in records if not is_delivery(r)]
    return savings(decisions, deliveries_by_decision(records), catalog, baseline=baseline).to_dict()


def test_totals_and_counts_match_the_hand_computed_ones(catalog: Catalog) -> None:
    report = report_of(catalog)
    assert report["baseline"] == {
        "endpoint": "gpt-4o",
        "input_per_mtok": "2.5",
        "output_per_mtok": "10",
    }
    assert report["decisions"] == {
        "considered": 7,
        "priced": 4,
        "delivered": 1,
        "no_endpoint": 1,
        "undelivered": 1,
        "unpriced": {"retired-endpoint": 1},
    }
    assert report["total"] == EXPECTED_TOTAL


def test_splits_by_segment_tier_and_endpoint(catalog: Catalog) -> None:
    report = report_of(catalog)
    by_segment = {row["name"]: row for row in report["by_segment"]}
    assert {k: (v["chosen_usd"], v["baseline_usd"]) for k, v in by_segment.items()} == {
        "any": ("0.0006", "0.0075"),
        "on_prem_only": ("0.000915", "0.0063725"),
        "trusted_hosted": ("0.00087", "0.00725"),
    }
    by_tier = {row["name"]: row for row in report["by_tier"]}
    assert {
        k: (v["decisions"], v["chosen_usd"], v["baseline_usd"]) for k, v in by_tier.items()
    } == {
        "balanced": (3, "0.002235", "0.0198725"),
        "practical": (1, "0.00015", "0.00125"),
    }
    by_endpoint = {row["name"]: row["chosen_usd"] for row in report["by_endpoint"]}
    assert by_endpoint == {
        "glm-4-plus-fireworks": "0.0006",
        "onprem-qwen3-32b": "0.000915",
        "qwen3-32b-together": "0.00087",
    }


def test_says_which_tokens_were_measured(catalog: Catalog) -> None:
    assert report_of(catalog)["tokens"] == {
        "measured": {"decisions": 1, "input_tokens": 1200, "output_tokens": 300},
        "estimated": {"decisions": 3, "input_tokens": 1601, "output_tokens": 1112},
    }


def test_counts_what_compliance_kept_from_cheaper_endpoints(catalog: Catalog) -> None:
    assert report_of(catalog)["kept_from_cheaper"] == {
        "decisions": 3,
        "by_cause": {"policy": 2, "segment": 1},
        "extra_usd": "0.00128755",
        "examples": ["s-0001", "s-0002", "s-0004"],
    }


def test_another_baseline(catalog: Catalog) -> None:
    total = report_of(catalog, "deepseek-v4-pro")["total"]
    assert total["baseline_usd"] == "0.00464695"
    assert total["saved_usd"] == "0.00226195"


def test_default_baseline_is_the_most_expensive_hosted_endpoint(catalog: Catalog) -> None:
    assert default_baseline(catalog).id == "gpt-4o"
    on_prem_only = Catalog(endpoints=[e for e in catalog.endpoints if e.deployment == "on_prem"])
    assert default_baseline(on_prem_only).id == "onprem-qwen3-32b"


def test_an_unknown_baseline_is_refused_with_the_known_ones(catalog: Catalog) -> None:
    with pytest.raises(ConfigError, match=r"'nope' is not in the catalog.*gpt-4o"):
        baseline_endpoint(catalog, "nope")


def test_money_text() -> None:
    assert usd(Decimal("0.0187375")) == "$0.0187"
    assert usd(Decimal("1234.5"), 2) == "$1,234.50"
    assert exact(Decimal("0.00450000")) == "0.0045"
    assert exact(Decimal("10.0")) == "10"
    assert exact(Decimal("0E-7")) == "0"
