"""Checks a matched value must pass before it is reported, kept apart from matching.

Validators are named in detector YAML (``validator: luhn``) and looked up in the explicit
:data:`VALIDATORS` registry; add a function there to offer a new one.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable


def luhn(value: str) -> bool:
    """The Luhn (mod 10) checksum over the digits of ``value`` (card numbers, IMEIs)."""
    digits = [int(ch) for ch in value if ch.isdigit()]
    if len(digits) < 2:
        return False
    total = 0
    for index, digit in enumerate(reversed(digits)):
        if index % 2 == 1:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return total % 10 == 0


def shannon_entropy(value: str) -> float:
    """Shannon entropy of the characters of ``value``, in bits per character."""
    if not value:
        return 0.0
    length = len(value)
    return -sum(n / length * math.log2(n / length) for n in Counter(value).values())


def mixed_characters(value: str) -> bool:
    """At least two of: lower-case letters, upper-case letters, digits (random keys are)."""
    classes = (
        any(ch.islower() for ch in value),
        any(ch.isupper() for ch in value),
        any(ch.isdigit() for ch in value),
    )
    return sum(classes) >= 2


VALIDATORS: dict[str, Callable[[str], bool]] = {
    "luhn": luhn,
    "mixed_characters": mixed_characters,
}
