"""Hot reload of the policy directory (SIGHUP, ``POST /policies/reload``, directory watching).

A reload loads the directory with the engine's catalog, refuses a set that uses an entity
type the running detectors cannot report (detectors do not reload: see
:mod:`.entity_uses`), runs the candidate set's own tests
(Rego tests and YAML cases, in child processes: the embedded engine can crash), builds the
configured evaluator on it, and only then swaps the active evaluator
(:meth:`~policy_engine.engine.ActiveEvaluator.swap`), so a decision sees either the old
evaluator or the new one (the engine reads it once per decision and audits that
evaluator's revision). When any step fails, the old set
keeps serving and the outcome lists the errors. Reloads are serialized. Each reload also
retries the shadow candidate (PE_SHADOW_POLICIES_DIR), if there is one: the outcome's
``shadow`` says what became of it.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING

from policy_engine.catalog import Catalog
from policy_engine.engine import ActiveEvaluator
from policy_engine.errors import PolicyEngineError
from policy_engine.logs import get_logger
from policy_engine.policy.embedded import EmbeddedEvaluator
from policy_engine.policy.loader import POLICY_SUFFIXES, PolicySet, load_policy_set
from policy_engine.policy.rego_tests import run_tests
from policy_engine.policy.yaml_cases import run_yaml_cases
from policy_engine.ports import PolicyEvaluator

if TYPE_CHECKING:
    from policy_engine.policy.shadow import ShadowSlot

log = get_logger("policy_engine.policy.reloader")

#: Builds the configured evaluator on a policy set (raises on failure).
EvaluatorFactory = Callable[[PolicySet], PolicyEvaluator]

#: Problems that refuse a candidate before its tests run (one message each).
CandidateCheck = Callable[[PolicySet], list[str]]


@dataclass(frozen=True)
class ReloadOutcome:
    """What a reload did. ``status``: ``applied``, ``unchanged`` or ``rejected``."""

    status: str
    revision: str
    previous_revision: str
    candidate_revision: str | None = None
    errors: list[str] = field(default_factory=list)
    tests_run: int = 0
    #: What the retried shadow candidate became (``applied``, ``unchanged``, ``refused``);
    #: None without shadow mode.
    shadow: str | None = None

    @property
    def applied(self) -> bool:
        return self.status != "rejected"


def check_candidate(policy_set: PolicySet) -> tuple[int, list[str]]:
    """Run the set's own tests in child processes: (tests run, failures)."""
    rego = run_tests(policy_set)
    cases = run_yaml_cases(policy_set)
    failures = [f"{r.file}: {r.name}: {r.message}" for r in rego if not r.passed]
    failures += [f"{c.file}: {c.name}: {c.describe()}" for c in cases if not c.passed]
    return len(rego) + len(cases), failures


class PolicyReloader:
    """Reloads ``directory`` (with ``catalog`` as data) into ``policies`` with evaluators
    from ``factory``."""

    def __init__(
        self,
        policies: ActiveEvaluator,
        catalog: Catalog,
        directory: Path,
        factory: EvaluatorFactory,
        *,
        check: CandidateCheck | None = None,
        shadow: ShadowSlot | None = None,
    ) -> None:
        self.policies = policies
        self.catalog = catalog
        self.directory = directory
        self.factory = factory
        self.check = check
        self.shadow = shadow
        self._lock = threading.Lock()
        self.last: ReloadOutcome | None = None

    def reload(self, *, trigger: str = "api") -> ReloadOutcome:
        with self._lock:
            outcome = self._reload()
            if self.shadow is not None:
                outcome = replace(outcome, shadow=self.shadow.retry())
        self.last = outcome
        event = {
            "trigger": trigger,
            "status": outcome.status,
            "revision": outcome.revision,
            "previous_revision": outcome.previous_revision,
            "candidate_revision": outcome.candidate_revision,
            "shadow": outcome.shadow,
        }
        if outcome.applied:
            log.info("policies_reload", **event)
        else:
            log.error("policies_reload", **event, errors=outcome.errors[:20])
        return outcome

    def _reload(self) -> ReloadOutcome:
        active = self.policies.current
        previous = active.revision
        try:
            candidate = load_policy_set(self.directory, {"catalog": self.catalog.policy_data()})
        except PolicyEngineError as exc:
            return ReloadOutcome("rejected", previous, previous, errors=str(exc).splitlines())
        if candidate.revision == previous:
            return ReloadOutcome("unchanged", previous, previous, candidate.revision)
        problems = self.check(candidate) if self.check is not None else []
        if problems:
            return ReloadOutcome("rejected", previous, previous, candidate.revision, problems)
        tests_run, failures = check_candidate(candidate)
        if failures:
            return ReloadOutcome(
                "rejected", previous, previous, candidate.revision, failures, tests_run
            )
        try:
            evaluator = self.factory(candidate)
        except PolicyEngineError as exc:
            self._restore(active)
            return ReloadOutcome(
                "rejected", previous, previous, candidate.revision, str(exc).splitlines()
            )
        self.policies.swap(evaluator)
        return ReloadOutcome(
            "applied", evaluator.revision, previous, candidate.revision, [], tests_run
        )

    def _restore(self, active: PolicyEvaluator) -> None:
        """An evaluator backed by a server may have pushed part of the candidate: push the
        active set again (an in-process evaluator has nothing to restore)."""
        policy_set = getattr(active, "policy_set", None)  # a result cache has none: in-process
        if policy_set is None or isinstance(active, EmbeddedEvaluator):
            return
        try:
            self.policies.swap(self.factory(policy_set))
        except PolicyEngineError as exc:
            log.error("policies_restore_failed", error=str(exc)[:300])

    # ------------------------------------------------------------------ triggers

    def install_sighup(self) -> None:
        """Reload on SIGHUP, in a thread (the handler itself returns at once)."""

        def handler(signum: int, frame: FrameType | None) -> None:
            threading.Thread(target=self.reload, kwargs={"trigger": "sighup"}, daemon=True).start()

        signal.signal(signal.SIGHUP, handler)

    def watch(self, interval: float) -> threading.Event:
        """Poll the directory's policy files (and the shadow candidate's) every ``interval``
        seconds and reload on a change. Returns an event that stops the watcher when set."""
        stop = threading.Event()

        directories = [self.directory]
        if self.shadow is not None:
            directories.append(self.shadow.directory)

        def loop() -> None:
            seen = [snapshot(d) for d in directories]
            while not stop.wait(interval):
                current = [snapshot(d) for d in directories]
                if current != seen:
                    seen = current
                    self.reload(trigger="watch")

        threading.Thread(target=loop, name="policy-watch", daemon=True).start()
        return stop


def snapshot(directory: Path) -> tuple[tuple[str, int, int], ...]:
    """(path, mtime ns, size) of every policy file: what the watcher compares."""
    found = []
    for path in directory.rglob("*"):
        if path.suffix in POLICY_SUFFIXES and path.is_file():
            try:
                stat = path.stat()
            except OSError:
                continue
            found.append((str(path), stat.st_mtime_ns, stat.st_size))
    return tuple(sorted(found))
