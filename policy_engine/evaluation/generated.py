"""Labeled sentences generated at run time by ``presidio-evaluator`` (the ``eval`` extra).

Reproducible: ``random``, ``numpy`` and Faker are seeded and the clock is frozen (relative
dates use "now"). No network: the package's templates and fake identities are bundled.
Generated entity types are mapped to the names the detectors use (street addresses,
cities, countries and zip codes are LOCATION).
"""

from __future__ import annotations

import contextlib
import io
import random

from policy_engine.errors import ConfigError
from policy_engine.evaluation.cases import Case

#: The generator's types, renamed to ours; others keep their name.
TYPE_MAP = {"STREET_ADDRESS": "LOCATION", "GPE": "LOCATION", "ZIP_CODE": "LOCATION"}

FROZEN_TIME = "2026-01-15T12:00:00"


def generate(count: int, seed: int) -> list[Case]:
    """``count`` generated sentences with their gold spans (same seed, same sentences)."""
    try:
        import numpy
        from freezegun import freeze_time
        from presidio_evaluator.data_generator import PresidioSentenceFaker
    except ImportError:
        raise ConfigError(
            "generating sentences needs the eval extra: pip install -e '.[eval]' "
            "(make eval installs it)"
        ) from None
    random.seed(seed)
    numpy.random.seed(seed)
    quiet = io.StringIO()
    # transformers (pulled in by the package) has lazy attributes freezegun must not touch.
    frozen = freeze_time(FROZEN_TIME, ignore=["transformers", "huggingface_hub"])
    with frozen, contextlib.redirect_stdout(quiet), contextlib.redirect_stderr(quiet):
        faker = PresidioSentenceFaker("en_US", lower_case_ratio=0.05, random_seed=seed)
        samples = faker.generate_new_fake_sentences(num_samples=count)
    cases = []
    for index, sample in enumerate(samples):
        gold = tuple(
            (TYPE_MAP.get(s.entity_type, s.entity_type), s.start_position, s.end_position)
            for s in sample.spans
        )
        cases.append(
            Case(
                id=f"generated-{seed}-{index:04d}",
                text=sample.full_text,
                gold=gold,
                category="pii",
                origin="generated",
                address_label="LOCATION",  # see TYPE_MAP
            )
        )
    return cases
