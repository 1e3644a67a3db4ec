"""Shadow mode's comparison and counters, with evaluators that implement the real interface."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from policy_engine.errors import PolicyError, PolicyLoadError
from policy_engine.models import Exclusion, PolicyResult, Segment
from policy_engine.policy import PolicySet
from policy_engine.policy.shadow import ShadowEvaluator, ShadowSlot, differences, shadow_metrics

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


class Revisioned(Fixed):
    def __init__(self, result: PolicyResult | None, revision: str) -> None:
        super().__init__(result)
        self._revision = revision

    @property
    def revision(self) -> str:
        return self._revision


def test_slot_keeps_the_running_candidate_when_a_new_one_is_refused() -> None:
    directory = Path("/candidate")
    state = {"revision": "sha256:one", "refuse": False}

    def load() -> PolicySet:
        return PolicySet(directory, {}, {}, {}, str(state["revision"]))

    def build(policy_set: PolicySet) -> ShadowEvaluator:
        if state["refuse"]:
            raise PolicyLoadError(f"{policy_set.revision}: its tests fail: t")
        return ShadowEvaluator(Revisioned(ACTIVE, policy_set.revision))

    slot = ShadowSlot(directory, load, build)
    assert slot({}, ACTIVE) is None  # nothing runs before the first retry
    assert slot.status() == {"enabled": False, "directory": "/candidate", "refused": None}
    assert slot.retry() == "applied"
    assert slot({}, ACTIVE) == {
        "revision": "sha256:one",
        "segment": "trusted_hosted",
        "differs": False,
    }
    assert slot.retry() == "unchanged"
    state.update(revision="sha256:two", refuse=True)
    assert slot.retry() == "refused"
    status = slot.status()
    assert status["enabled"] is True and status["revision"] == "sha256:one"
    assert status["evaluated"] == 1  # the running candidate keeps its counters
    assert status["refused"]["revision"] == "sha256:two"
    assert status["refused"]["reason"] == "sha256:two: its tests fail: t"
    assert shadow_metrics(slot)["policy_shadow_evaluations_total"] == 1.0
    state.update(refuse=False)
    assert slot.retry() == "applied"
    assert slot.status()["refused"] is None and slot.status()["evaluated"] == 0
