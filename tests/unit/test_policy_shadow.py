"""Shadow mode's comparison and counters, with evaluators that implement the real interface."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from policy_engine.errors import PolicyError
from policy_engine.models import Exclusion, PolicyResult, Segment
from policy_engine.policy.shadow import ShadowEvaluator, differences, shadow_metrics

ACTIVE = PolicyResult(
    segment=Segment.TRUSTED_HOSTED,
    excluded=[Exclusion(endpoint="a", rule="r.x", message="m")],
    obligations=["redact:EMAIL_ADDRESS"],
)


class Fixed:
    """A PolicyEvaluator that answers one result, or raises."""

    def __init__(self, result: PolicyResult | None) -> None:
        self.result = result

    @property
    def revision(self) -> str:
        return "sha256:candidate"

    def evaluate(self, policy_input: Mapping[str, Any]) -> PolicyResult:
        if self.result is None:
            raise PolicyError("boom")
        return self.result


def test_differences_ignore_wording_but_not_effects() -> None:
    reworded = ACTIVE.model_copy(
        update={"excluded": [Exclusion(endpoint="a", rule="r.x", message="other words")]}
    )
    assert differences(ACTIVE, reworded) == []
    stricter = PolicyResult(segment=Segment.ON_PREM_ONLY)
    assert differences(ACTIVE, stricter) == ["segment", "excluded", "obligations"]


def test_shadow_counts_and_reports_without_raising() -> None:
    same, other, failing = (
        ShadowEvaluator(Fixed(ACTIVE)),
        ShadowEvaluator(Fixed(PolicyResult(segment=Segment.ON_PREM_ONLY))),
        ShadowEvaluator(Fixed(None)),
    )
    assert same({}, ACTIVE) == {
        "revision": "sha256:candidate",
        "segment": "trusted_hosted",
        "differs": False,
    }
    assert other({}, ACTIVE)["differences"] == ["segment", "excluded", "obligations"]
    assert failing({}, ACTIVE) == {
        "revision": "sha256:candidate",
        "error": "PolicyError",
        "differs": None,
    }
    assert (other.stats()["evaluated"], other.stats()["differing"]) == (1, 1)
    assert shadow_metrics(failing) == {
        "policy_shadow_evaluations_total": 1.0,
        "policy_shadow_differing_total": 0.0,
        "policy_shadow_errors_total": 1.0,
    }
    assert shadow_metrics(None) == {}
