"""Checks a matched value must pass before it is reported, kept apart from matching.

Validators are named in detector YAML (``validator: luhn``) and looked up in the explicit
:data:`VALIDATORS` registry; add a function there to offer a new one.
"""

from __future__ import annotations

import base64
import binascii
import itertools
import json
import math
from collections import Counter
from collections.abc import Callable

from policy_engine.detection.card_brands import branded_card, luhn


def iban(value: str) -> bool:
    """The IBAN mod-97 check (ISO 13616) over the value without spaces or dashes."""
    compact = "".join(ch for ch in value if ch.isalnum()).upper()
    if not 15 <= len(compact) <= 34 or not compact[:2].isalpha() or not compact[2:4].isdigit():
        return False
    rearranged = compact[4:] + compact[:4]
    digits = "".join(str(int(ch, 36)) for ch in rearranged)
    return int(digits) % 97 == 1


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


def has_sequence(value: str, length: int = 6) -> bool:
    """Whether ``value`` holds a run such as ``123456`` or ``abcdef`` (typed, not random)."""
    run = 1
    for previous, current in itertools.pairwise(value):
        run = run + 1 if ord(current) - ord(previous) == 1 and current.isalnum() else 1
        if run >= length:
            return True
    return False


def no_sequences(value: str) -> bool:
    """No run of six consecutive characters (placeholders are typed as ``abc123456``)."""
    return not has_sequence(value)


def secret_like(value: str) -> bool:
    """At least 8 characters from two or more of: lower, upper, digits, two kinds of symbol;
    no typed run such as ``123456``; more than four distinct characters. A value of digits
    only counts when it is long (16 or more, as numeric client secrets and ids are) and
    uses at least six different digits (``1700000000000000`` is a number, not a secret)."""
    if has_sequence(value):
        return False
    if value.isdigit():
        return len(value) >= 16 and len(set(value)) >= 6
    classes = (
        any(ch.islower() for ch in value),
        any(ch.isupper() for ch in value),
        any(ch.isdigit() for ch in value),
        len({ch for ch in value if not ch.isalnum()}) >= 2,
    )
    return len(value) >= 8 and sum(classes) >= 2 and len(set(value)) > 4


def repeated_unit(value: str) -> bool:
    """Whether ``value`` is mostly one short unit typed over and over, in any letter case
    (``abcd1234abcd1234ABCD1234…``): at least three repeats covering two thirds of it."""
    folded = value.lower()
    for size in range(1, min(8, len(folded) // 3) + 1):
        unit = folded[:size]
        repeats = 1
        while folded.startswith(unit, repeats * size):
            repeats += 1
        if repeats >= 3 and repeats * size * 3 >= len(folded) * 2:
            return True
    return False


def secret_value(value: str) -> bool:
    """:func:`secret_like`, and not one short unit repeated (a typed placeholder)."""
    return secret_like(value) and not repeated_unit(value)


_BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def github_checksum(value: str) -> bool:
    """A GitHub token (``ghp_``, ``gho_``, ``ghu_``, ``ghs_``, ``ghr_``) whose last six
    characters are the CRC32 of the rest of its body in base 62, left-padded with zeros:
    the check GitHub builds into every token it issues, so a value that passes was made by
    GitHub's generator, not typed into documentation."""
    body = value.partition("_")[2]
    if len(body) < 7:
        return False
    checksum = binascii.crc32(body[:-6].encode())
    digits = ""
    while checksum:
        checksum, rest = divmod(checksum, 62)
        digits = _BASE62[rest] + digits
    return digits.rjust(6, "0") == body[-6:]


def atlassian_pat(value: str) -> bool:
    """A Jira or Confluence (Data Center) personal access token: 44 base64 characters that
    decode to a numeric token id, a colon and random bytes."""
    try:
        decoded = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        return False
    token_id, colon, _ = decoded.partition(b":")
    return bool(colon) and 6 <= len(token_id) <= 20 and token_id.isdigit()


def jwt(value: str) -> bool:
    """A JSON Web Token whose first segment decodes to a JSON header naming its ``alg``."""
    header = value.split(".", 1)[0]
    try:
        decoded = base64.urlsafe_b64decode(header + "=" * (-len(header) % 4))
        parsed = json.loads(decoded)
    except (binascii.Error, ValueError):
        return False
    return isinstance(parsed, dict) and "alg" in parsed


VALIDATORS: dict[str, Callable[[str], bool]] = {
    "atlassian_pat": atlassian_pat,
    "card_brand": branded_card,
    "github_checksum": github_checksum,
    "iban": iban,
    "jwt": jwt,
    "luhn": luhn,
    "mixed_characters": mixed_characters,
    "no_sequences": no_sequences,
    "secret_like": secret_like,
    "secret_value": secret_value,
}
