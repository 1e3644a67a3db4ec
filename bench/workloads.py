"""Deterministic workloads of ``make bench``, from sentences written for this benchmark.

Single prompts of about 200 B, 2 KB, 20 KB and 100 KB mix three kinds of sentence: clean
business text (most of it), text with contact PII (names, phone numbers, e-mail and street
addresses) and text with secrets or sensitive PII (keys, tokens, SSNs, card numbers,
IBANs). Two more 2 KB workloads are prose where NER must run (:mod:`bench.prose`):
business text with no personal data, and text dense with contact data. The chat workloads
are a system prompt and ten turns; request ``k`` re-sends the system prompt and every
message up to turn ``k``, as gateways do: one from the mix above, one from business prose
with contact data in about a fifth of its sentences and no secrets.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from functools import partial
from typing import Any

from bench import prose

SEED = 20261124

#: Name → size in characters of the single-prompt workloads.
SIZES = {
    "200B": 200,
    "2KB": 2_000,
    "20KB": 20_000,
    "100KB": 100_000,
    "2KB-no-secrets": 2_000,
    "2KB-business": 2_000,
    "2KB-contact-dense": 2_000,
}
#: Workloads without the secrets sentences (85 % clean, 15 % contact PII): nothing in them
#: forces on_prem_only, so NER always runs; what a prompt costs when it cannot be skipped.
WITHOUT_SECRETS = frozenset({"2KB-no-secrets"})
#: Workloads of generated prose (:mod:`bench.prose`): name → generator.
PROSE = {"2KB-business": prose.business_prose, "2KB-contact-dense": prose.contact_dense_prose}

CLEAN = [
    "The quarterly planning review moved to Thursday afternoon.",
    "Please summarize the attached meeting notes in three bullet points.",
    "Our support team resolved most tickets within one business day.",
    "Draft a polite reply thanking the vendor for the updated proposal.",
    "The new onboarding checklist covers laptops, badges and accounts.",
    "Compare the two pricing options and recommend one for a small team.",
    "Revenue grew slightly in the second quarter while costs stayed flat.",
    "List the open risks of the migration and who owns each of them.",
    "Rewrite this paragraph so that it reads well for a general audience.",
    "The warehouse inventory count is scheduled for the end of the month.",
    "Explain the difference between a fixed and a variable rate in plain words.",
    "Our roadmap puts the reporting dashboard ahead of the mobile release.",
]
CONTACT = [
    "Customer Laura Bennett called from 212-555-0143 about her invoice.",
    "Send the contract to daniel.ortiz@northwind-mail.com before noon.",
    "Marcus Whitfield asked to be reached at (415) 555-0198 after five.",
    "Deliver the samples to 1420 Harbor View Road, Portland, to Emily Carter.",
    "Priya Natarajan wrote from priya.natarajan@lumenfield.io about the renewal.",
    "Call Thomas Keller on +1 646 555 0122 to confirm the shipment date.",
]
SECRET = [
    "Her SSN is 536-22-8190 and the card on file is 4111 1111 1111 1111.",
    "Refund to IBAN DE89 3704 0044 0532 0130 00 was approved.",
    "Use the key AKIAQ3EGRTXN4KDH7ZPM with the staging bucket for now.",
    "The token ghp_8fK2mQ9xLr4TvB7nWc1ZpD6sYh3JeA5uGo0i must be rotated today.",
    "Connect with postgres://billing:Str0ngPassw0rd!@db.internal:5432/ledger please.",
    "Patient record 88-1034: diagnosis type 2 diabetes, insulin since March.",
]


def make_text(
    size: int, rng: random.Random, *, secret_share: float = 0.10, contact_share: float = 0.15
) -> str:
    """About ``size`` characters: ~75 % clean, ~15 % contact PII, ~10 % secrets (by default)."""
    parts: list[str] = []
    length = 0
    while length < size:
        draw = rng.random()
        pool = (
            SECRET
            if draw < secret_share
            else CONTACT
            if draw < secret_share + contact_share
            else CLEAN
        )
        sentence = rng.choice(pool)
        parts.append(sentence)
        length += len(sentence) + 1
    return " ".join(parts)[:size]


def single_prompts(rounds: dict[str, int], seed: int = SEED) -> dict[str, list[str]]:
    """``rounds[name]`` distinct prompts of each size (same texts on every run).

    Distinct, so that no prompt is served from a cache of an earlier one.
    """
    rng = random.Random(seed)
    out: dict[str, list[str]] = {}
    for name, count in rounds.items():
        if name in PROSE:
            out[name] = _distinct(count, partial(PROSE[name], SIZES[name], rng))
            continue
        share = 0.0 if name in WITHOUT_SECRETS else 0.10
        out[name] = _distinct(count, partial(make_text, SIZES[name], rng, secret_share=share))
    return out


def clean_prompts(count: int, size: int = SIZES["100KB"], seed: int = SEED) -> list[str]:
    """``count`` distinct prompts of about ``size`` characters of clean business text only:
    what the pattern stage costs where there is nothing to find."""
    rng = random.Random(seed + 2)
    return _distinct(count, partial(make_text, size, rng, secret_share=0.0, contact_share=0.0))


def _distinct(count: int, make: Callable[[], str]) -> list[str]:
    """``count`` distinct texts from ``make``, sorted."""
    seen: set[str] = set()
    while len(seen) < count:
        seen.add(make())
    return sorted(seen)


SYSTEM_PROMPT = (
    "You are the assistant of the finance and operations team. Answer briefly, cite the "
    "document you used, never invent figures, and ask for clarification when a request is "
    "ambiguous. Keep customer data inside the conversation. "
) * 4


def chat_requests(
    turns: int = 10, seed: int = SEED, *, kind: str = "mix"
) -> list[list[dict[str, Any]]]:
    """``turns`` requests; request ``k`` holds the system prompt and turns ``1..k``.

    Each turn is a user message (~400 B) and, for turns before the last of a request,
    the assistant's reply (~600 B). ``kind`` ``mix``: both from the single prompts' mix
    (secrets in some); ``prose``: business prose with contact data in about a fifth of
    the sentences (:func:`bench.prose.mixed_prose`), no secrets.
    """
    rng = random.Random(seed + 1)
    make: Callable[[int, random.Random], str] = make_text if kind == "mix" else prose.mixed_prose
    users = [make(400, rng) for _ in range(turns)]
    replies = [make(600, rng) for _ in range(turns)]
    requests: list[list[dict[str, Any]]] = []
    for k in range(1, turns + 1):
        messages: list[dict[str, Any]] = [{"role": "system", "content": SYSTEM_PROMPT}]
        for index in range(k):
            messages.append({"role": "user", "content": users[index]})
            if index < k - 1:
                messages.append({"role": "assistant", "content": replies[index]})
        requests.append(messages)
    return requests
