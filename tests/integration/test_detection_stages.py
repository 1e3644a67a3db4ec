"""Detection in stages: NER is skipped when the pattern stage already forces on_prem_only.

The decision is the same as with both stages (on_prem_only cannot get stricter); the
response and the audit record say which stages ran and why NER was skipped.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from policy_engine import Engine, Segment
from policy_engine.audit import SQLiteAuditStore
from policy_engine.decision import PROBE_COUNT, with_possible_findings
from policy_engine.detection.cache import CachedDetector, FindingCache
from policy_engine.detection.ner_stage import NerStage
from policy_engine.detection.presidio_detector import PresidioDetector
from policy_engine.models import DetectedSpan, ScanUnit
from policy_engine.policy import EmbeddedEvaluator, load_policy_set
from policy_engine.policy.cache import CachedEvaluator
from tests.audit_support import documents
from tests.conftest import ROOT, in_process_settings
from tests.detector_support import FailingNer

SECRET_AND_NAME = "Laura Bennett said the key AKIAQ3EGRTXN4KDH7ZPM works for staging."
NAME_ONLY = "Laura Bennett asked us to move the quarterly review to Thursday."


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    workdir = tmp_path_factory.mktemp("stages")
    settings = in_process_settings(workdir, finding_cache_size=0)
    with Engine.from_settings(settings) as built:
        yield built


@pytest.fixture
def without_skipping(engine: Engine, tmp_path: Path) -> Iterator[Engine]:
    """The same detector and policies, NER never skipped."""
    with Engine(
        detector=engine.detector,
        evaluator=engine.evaluator,
        catalog=engine.catalog,
        audit_log=SQLiteAuditStore(tmp_path / "audit.db"),
        digester=engine.digester,
        skip_later_stages=False,
    ) as other:
        yield other


def last_record(engine: Engine) -> dict[str, object]:
    return documents(engine.audit_log.records())[-1]


def test_ner_is_skipped_when_the_patterns_force_on_prem(engine: Engine) -> None:
    decision = engine.decide({"content": SECRET_AND_NAME})
    assert decision.segment is Segment.ON_PREM_ONLY
    assert decision.outcome == "decided"
    assert decision.detection is not None
    assert decision.detection.stages == ["patterns"]
    (skipped,) = decision.detection.skipped
    assert skipped.stage == "ner"
    assert "already force on_prem_only" in skipped.reason
    assert "isolation." in skipped.reason  # names the rule that forced it
    assert "PERSON" not in {f.type for f in decision.findings}
    record = last_record(engine)
    assert record["decision_id"] == decision.decision_id
    assert record["detection"] == decision.detection.model_dump()


def test_with_skipping_off_the_same_decision_has_the_names_too(
    engine: Engine, without_skipping: Engine
) -> None:
    skipping = engine.decide({"content": SECRET_AND_NAME})
    full = without_skipping.decide({"content": SECRET_AND_NAME})
    assert full.detection is not None and full.detection.stages == ["patterns", "ner"]
    assert full.detection.skipped == []
    assert "PERSON" in {f.type for f in full.findings}
    for field in ("segment", "allowed_endpoints", "recommended_endpoint", "excluded_endpoints"):
        assert getattr(skipping, field) == getattr(full, field), field
    assert last_record(without_skipping)["detection"] == {
        "stages": ["patterns", "ner"],
        "skipped": [],
    }


NAMES_OBLIGATION = """package segmentation.rules.names

import rego.v1

obligations contains "redact:PERSON" if {
	some entity_type in input.entity_types
	entity_type == "PERSON"
}
"""


def with_module(engine: Engine, tmp_path: Path, name: str, module: str) -> Engine:
    """``engine``'s detector and catalog, the shipped policies plus ``module``."""
    policies = tmp_path / "policies"
    shutil.copytree(ROOT / "policies", policies)
    (policies / name).write_text(module)
    policy_set = load_policy_set(policies, {"catalog": engine.catalog.policy_data()})
    return Engine(
        detector=engine.detector,
        evaluator=EmbeddedEvaluator(policy_set),
        catalog=engine.catalog,
        audit_log=SQLiteAuditStore(tmp_path / "audit.db"),
        digester=engine.digester,
    )


def test_ner_runs_when_names_could_still_change_the_answer(engine: Engine, tmp_path: Path) -> None:
    with with_module(engine, tmp_path, "names.rego", NAMES_OBLIGATION) as names:
        decision = names.decide({"content": SECRET_AND_NAME})
        secret_only = names.decide({"content": "The key AKIAQ3EGRTXN4KDH7ZPM works for staging."})
    assert decision.segment is Segment.ON_PREM_ONLY
    assert decision.detection is not None
    assert decision.detection.stages == ["patterns", "ner"]  # a name adds an obligation
    assert decision.obligations == ["redact:PERSON"]
    assert "PERSON" in {f.type for f in decision.findings}
    # Without a name NER runs too (it could have found one) and finds none.
    assert secret_only.detection is not None
    assert secret_only.detection.stages == ["patterns", "ner"]
    assert secret_only.obligations == []


MANY_SECRETS_OBLIGATION = """package segmentation.rules.many

import rego.v1

obligations contains "review:many-secrets" if {
	counts := [f.count | some f in input.findings; f.category == "secret"]
	sum(counts) >= 3
}
"""


def test_the_probe_takes_every_finding_at_its_most(engine: Engine, tmp_path: Path) -> None:
    """A count threshold the findings so far do not reach keeps NER running: the probe
    cannot tell what a later stage might add, so it assumes the most."""
    with with_module(engine, tmp_path, "many.rego", MANY_SECRETS_OBLIGATION) as many:
        decision = many.decide({"content": SECRET_AND_NAME})
    assert decision.segment is Segment.ON_PREM_ONLY
    assert decision.obligations == []  # one secret: below the threshold
    assert decision.detection is not None
    assert decision.detection.stages == ["patterns", "ner"]


def test_probes_of_like_prompts_share_one_policy_evaluation(engine: Engine) -> None:
    """The probe does not depend on counts or the text's length: a prompt with the same
    kinds of findings as an earlier one is probed from the policy result cache."""
    evaluator = engine.evaluator
    assert isinstance(evaluator, CachedEvaluator)
    engine.decide({"content": "The key AKIAQ3EGRTXN4KDH7ZPM works for staging."})
    hits = evaluator.hits
    other = engine.decide(
        {
            "content": "Rotate AKIAZ7QW3RT5LM2XNB4Y and AKIAQ3TR7ZK2M5WX9BLD before the audit"
            " next week, and tell the platform team when both are done."
        }
    )
    assert other.detection is not None and other.detection.stages == ["patterns"]
    assert [(f.type, f.count) for f in other.findings] == [("AWS_ACCESS_KEY", 2)]
    assert evaluator.hits == hits + 1  # the probe; the real input (count 2) is new


def test_the_probe_input_is_the_most_later_stages_could_make_it() -> None:
    unit = ScanUnit(text="x" * 50, message=0)
    real = {
        "context": {"application": "bot"},
        "findings": [
            {"type": "US_SSN", "category": "pii", "count": 2, "max_score": 0.6, "detector": "d"}
        ],
        "entity_types": ["US_SSN"],
        "categories": ["pii"],
        "content": {"characters": 50, "estimated_tokens": 13},
    }
    probe = with_possible_findings(real, ["LOCATION", "PERSON"], [unit])
    assert [(f["type"], f["count"], f["max_score"]) for f in probe["findings"]] == [
        ("US_SSN", PROBE_COUNT, 1.0),
        ("LOCATION", PROBE_COUNT, 1.0),
        ("PERSON", PROBE_COUNT, 1.0),
    ]
    assert probe["entity_types"] == ["LOCATION", "PERSON", "US_SSN"]
    assert real["findings"][0]["count"] == 2  # the real input is left as it was
    longer = {**real, "content": {"characters": 5000, "estimated_tokens": 1250}}
    assert (
        with_possible_findings(longer, ["PERSON"], [unit])["findings"]
        == (with_possible_findings(real, ["PERSON"], [unit])["findings"])
    )


def test_ner_runs_when_the_patterns_leave_a_laxer_segment(engine: Engine) -> None:
    decision = engine.decide({"content": NAME_ONLY})
    assert decision.detection is not None
    assert decision.detection.stages == ["patterns", "ner"]
    assert decision.detection.skipped == []
    person = [f for f in decision.findings if f.type == "PERSON"]
    assert person and person[0].detector == "presidio:SpacyRecognizer"
    assert person[0].spans == [(0, len("Laura Bennett"))]


def test_a_chat_skips_ner_for_every_message_once_one_forces_on_prem(engine: Engine) -> None:
    decision = engine.decide(
        {
            "messages": [
                {"role": "system", "content": "You are a helpful assistant for Laura Bennett."},
                {"role": "user", "content": "Her SSN is 536-22-8190, file the form."},
            ]
        }
    )
    assert decision.segment is Segment.ON_PREM_ONLY
    assert decision.detection is not None and decision.detection.stages == ["patterns"]
    assert {f.type for f in decision.findings} == {"US_SSN"}


def test_the_service_reports_the_stages(client: httpx.Client) -> None:
    skipped = client.post("/decide", json={"content": SECRET_AND_NAME}).json()
    assert skipped["detection"]["stages"] == ["patterns"]
    assert skipped["detection"]["skipped"][0]["stage"] == "ner"
    both = client.post("/decide", json={"content": NAME_ONLY}).json()
    assert both["detection"] == {"stages": ["patterns", "ner"], "skipped": []}


def test_stages_together_equal_detect(engine: Engine) -> None:
    detector = engine.detector
    assert isinstance(detector, PresidioDetector)
    for text in (SECRET_AND_NAME, NAME_ONLY, "nothing here"):
        first = detector.detect_stage("patterns", text, [])
        both = detector.detect_stage("ner", text, first)
        assert both == detector.detect(text)
        assert not {s.type for s in first} & {"LOCATION"}


def test_each_stage_is_cached_on_its_own(engine: Engine) -> None:
    detector = engine.detector
    assert isinstance(detector, PresidioDetector)
    cache = FindingCache(16)
    cached = CachedDetector(detector, cache, "rev")
    assert cached.stages == ("patterns", "ner")
    first = cached.detect_stage("patterns", NAME_ONLY, [])
    assert len(cache) == 1 and cache.misses == 1
    assert cached.detect(NAME_ONLY) == detector.detect(NAME_ONLY)
    assert len(cache) == 2 and cache.hits == 1  # the pattern stage was not scanned again
    assert cached.detect_stage("patterns", NAME_ONLY, []) == first


def test_long_texts_are_cut_for_ner_without_changing_what_it_finds(engine: Engine) -> None:
    detector = engine.detector
    assert isinstance(detector, PresidioDetector)
    lines = [
        "Laura Bennett reviewed the contract with Marcus Whitfield in Portland.",
        "The quarterly planning review moved to Thursday afternoon.",
        "Priya Natarajan will call Thomas Keller about the renewal in Boston.",
    ]
    text = "\n".join(lines[i % 3] for i in range(400))  # ~26 KB, cut at line ends
    whole = NerStage(detector.detector_set, detector.ner.nlp_engine, chunk_chars=len(text))
    cut = NerStage(detector.detector_set, detector.ner.nlp_engine, chunk_chars=4_000)

    def key(spans: list[DetectedSpan]) -> list[tuple[str, int, int]]:
        return [(s.type, s.start, s.end) for s in spans]

    found = key(cut.analyze(text))
    assert found == key(whole.analyze(text))
    assert sum(1 for t, *_ in found if t == "PERSON") >= 400


@pytest.mark.parametrize(
    ("how", "rule"), [("times out", "scan_timeout"), ("fails", "engine.detection_failed")]
)
def test_a_second_stage_that_times_out_or_fails_is_not_recorded_as_run(
    engine: Engine, tmp_path: Path, how: str, rule: str
) -> None:
    """The decision fails closed under one deadline, and its record does not claim that NER
    ran: ``stages`` lists only the stages that completed; the reason says what happened."""
    with Engine(
        detector=FailingNer(how),  # type: ignore[arg-type]
        evaluator=engine.evaluator,
        catalog=engine.catalog,
        audit_log=SQLiteAuditStore(tmp_path / "audit.db"),
        digester=engine.digester,
        scan_deadline_seconds=0.3,
    ) as slow:
        decision = slow.decide({"content": NAME_ONLY})
        (record,) = documents(slow.audit_log.records())
    assert decision.segment is Segment.ON_PREM_ONLY
    assert decision.outcome == "fail_closed"
    assert [r.rule for r in decision.reasons][:1] == [rule]
    assert decision.detection is not None and decision.detection.stages == ["patterns"]
    assert record["detection"] == {"stages": ["patterns"], "skipped": []}
