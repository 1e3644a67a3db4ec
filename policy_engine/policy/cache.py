"""A result cache in front of any :class:`~policy_engine.ports.PolicyEvaluator`.

Evaluating the shipped policies costs a few milliseconds per decision (regopy), and many
decisions put the same question to the policy: clean text, the same finding types, the
same application and purpose. :class:`CachedEvaluator` keeps a bounded, thread-safe LRU
from a digest of (policy revision, the part of the input the policy can read) to the
decision. The part read is found by :func:`~.input_paths.input_members_read` on the
set's modules (the shipped set reads neither the content's length nor the user, so
prompts that differ only there share an entry); policies that may read all of ``input``
are keyed by the whole input. Keys are BLAKE2b digests of canonical JSON: the cache
holds no context values, only decisions.

One cache belongs to one evaluator, and so to one policy revision: a reload builds a new
evaluator with an empty cache, and the revision is part of every key as well, so a
changed policy is never answered from an older one. Failed evaluations are not cached.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from policy_engine.lru import DigestLRU, content_key
from policy_engine.models import PolicyResult
from policy_engine.policy.input_paths import InputPaths, input_members_read, projection_key
from policy_engine.policy.loader import PolicySet
from policy_engine.ports import PolicyEvaluator


class CachedEvaluator:
    """:class:`~policy_engine.ports.PolicyEvaluator` answering repeated inputs from memory.

    ``inner`` evaluates ``policy_set``; at most ``max_entries`` decisions are kept.
    """

    def __init__(
        self,
        inner: PolicyEvaluator,
        policy_set: PolicySet,
        max_entries: int,
    ) -> None:
        if max_entries <= 0:
            raise ValueError("max_entries must be positive (build no cache to turn it off)")
        self.inner = inner
        self.members_read: InputPaths | None = input_members_read(policy_set.modules)
        self._cache: DigestLRU[dict[str, Any]] = DigestLRU(max_entries)

    @property
    def max_entries(self) -> int:
        return self._cache.max_entries

    @property
    def hits(self) -> int:
        return self._cache.hits

    @property
    def misses(self) -> int:
        return self._cache.misses

    @property
    def revision(self) -> str:
        return self.inner.revision

    def evaluate(self, policy_input: Mapping[str, Any]) -> PolicyResult:
        key = self.key(policy_input)
        if key is None:  # not JSON: the inner evaluator reports it
            return self.inner.evaluate(policy_input)
        stored = self._cache.get(key)
        if stored is not None:
            return PolicyResult.model_validate(stored)  # a fresh object for every caller
        result = self.inner.evaluate(policy_input)  # raises: nothing is stored
        self._cache.put(key, result.model_dump(mode="json"))
        return result

    def key(self, policy_input: Mapping[str, Any]) -> bytes | None:
        """The digest ``policy_input`` is stored under; None when it is not JSON."""
        try:
            text = projection_key(policy_input, self.members_read)
        except (TypeError, ValueError):
            return None
        return content_key(self.inner.revision, text)

    def __len__(self) -> int:
        return len(self._cache)


def cached(evaluator: PolicyEvaluator, policy_set: PolicySet, max_entries: int) -> PolicyEvaluator:
    """``evaluator`` behind a :class:`CachedEvaluator` of ``max_entries``; as is when 0."""
    if max_entries <= 0:
        return evaluator
    return CachedEvaluator(evaluator, policy_set, max_entries)
