"""Payment card numbers by brand: which issuer prefixes (IINs) come in which lengths.

Presidio's card recognizer knows the card shapes of some years ago (13 to 16 digits, 4/5/6/3
and 1 as first digit). Cards issued today also have 19 digits (Visa), 12 to 19 (Maestro),
a Mastercard range starting 2221-2720, 15-digit JCB (2131, 1800) and UnionPay (62).
:func:`branded_card` accepts a value whose digits pass the Luhn check and whose prefix and
length are a brand's, so that such a number is reported without a context word.
"""

from __future__ import annotations

from dataclasses import dataclass


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


@dataclass(frozen=True)
class Brand:
    """Issuer prefixes as inclusive ranges of their first digits, and the card lengths."""

    name: str
    prefixes: tuple[tuple[int, int], ...]
    lengths: frozenset[int]


def _one(*values: int) -> tuple[tuple[int, int], ...]:
    return tuple((value, value) for value in values)


BRANDS: tuple[Brand, ...] = (
    Brand("visa", _one(4), frozenset({13, 16, 19})),
    Brand("mastercard", ((51, 55), (2221, 2720)), frozenset({16})),
    Brand("amex", _one(34, 37), frozenset({15})),
    Brand("discover", ((6011, 6011), (644, 649), (65, 65)), frozenset(range(16, 20))),
    Brand("jcb", ((3528, 3589),), frozenset(range(16, 20))),
    Brand("jcb-15", _one(2131, 1800), frozenset({15})),
    Brand("unionpay", _one(62), frozenset(range(16, 20))),
    Brand("diners", ((300, 305), (36, 36), (38, 39)), frozenset(range(14, 20))),
    # Maestro: the long-standing IINs at every length from 12, the rest of the 50 and
    # 56-69 ranges only at the lengths of other cards (a 12-digit number starting 6 is
    # more often something else).
    Brand(
        "maestro",
        _one(5018, 5020, 5038, 5893, 6304, 6759, 6761, 6762, 6763),
        frozenset(range(12, 20)),
    ),
    Brand("maestro-wide", ((50, 50), (56, 69)), frozenset(range(16, 20))),
)  # fmt: skip


def brand_of(digits: str) -> str | None:
    """The brand whose prefix and length ``digits`` (digits only) have, or None."""
    for brand in BRANDS:
        if len(digits) not in brand.lengths:
            continue
        for low, high in brand.prefixes:
            width = len(str(low))
            if low <= int(digits[:width]) <= high:
                return brand.name
    return None


def branded_card(value: str) -> bool:
    """Whether the digits of ``value`` are a card number: a brand's prefix and length, and
    the Luhn check."""
    digits = "".join(ch for ch in value if ch.isdigit())
    return brand_of(digits) is not None and luhn(digits)
