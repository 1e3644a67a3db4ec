"""Card numbers of current brands and lengths: prefix, length and the Luhn check."""

from __future__ import annotations

import pytest

from policy_engine.detection.card_brands import brand_of, branded_card, luhn


def with_check_digit(body: str) -> str:
    """``body`` and the digit that makes it pass the Luhn check."""
    return next(body + d for d in "0123456789" if luhn(body + d))


@pytest.mark.parametrize(
    ("body", "brand"),
    [
        ("400001234567890123", "visa"),  # 19 digits
        ("400001234567890", "visa"),  # 16
        ("222300004841001", "mastercard"),  # the 2221-2720 range
        ("272099999999999", "mastercard"),
        ("67596498264", "maestro"),  # 12 digits
        ("21311234567890", "jcb-15"),
        ("18001234567890", "jcb-15"),
        ("622126123456789012", "unionpay"),  # 19
        ("3528123456789012", "jcb"),  # 17
    ],
)
def test_current_brands_and_lengths(body: str, brand: str) -> None:
    number = with_check_digit(body)
    assert brand_of(number) == brand
    assert branded_card(" ".join(number[i : i + 4] for i in range(0, len(number), 4)))


@pytest.mark.parametrize(
    "body",
    [
        "922300004841001",  # no brand starts with 9
        "22200000000000",  # 2220 is below the Mastercard range
        "601234567890",  # a 13-digit number starting 60
        "5000123456789",  # a 14-digit number in the wide Maestro range
        "21311234567890123",  # JCB 2131 has 15 digits only
    ],
)
def test_other_prefixes_and_lengths_are_no_cards(body: str) -> None:
    assert not branded_card(with_check_digit(body))


def test_the_luhn_check_is_required() -> None:
    number = with_check_digit("222300004841001")
    wrong = number[:-1] + str((int(number[-1]) + 1) % 10)
    assert brand_of(wrong) == "mastercard"
    assert not branded_card(wrong)
