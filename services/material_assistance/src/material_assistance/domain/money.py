"""Exact money: amounts in a currency's minor units (integers), read and written as decimals.

Never a binary fraction: 0.1 + 0.2 is not 0.3 there, and a fund's last allowance
must be paid or not by the same cent every time. Rejected: `Decimal` throughout,
exact too, but a column of integers needs no numeric type per database dialect.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

# ISO 4217 codes accepted, with the digits of their minor unit (qəpik, cent). A
# currency not here is refused rather than guessed: its minor unit is not always 2.
MINOR_DIGITS = {"AZN": 2, "USD": 2, "EUR": 2, "GBP": 2, "TRY": 2, "RUB": 2, "GEL": 2}


class MoneyError(ValueError):
    """An amount or currency that cannot be held exactly."""


def digits(currency: str) -> int:
    """The minor unit's digits of an accepted currency; MoneyError for any other."""
    try:
        return MINOR_DIGITS[currency]
    except KeyError:
        known = ", ".join(sorted(MINOR_DIGITS))
        raise MoneyError(f"unknown currency {currency!r}; accepted: {known}") from None


def to_minor(amount: Decimal, currency: str) -> int:
    """The amount in minor units: 250.5 AZN is 25050. MoneyError for a finer amount
    ("250.005" AZN names a thousandth of a manat, which no one can pay)."""
    places = digits(currency)
    minor = amount.scaleb(places)
    if minor != minor.to_integral_value():
        raise MoneyError(f"at most {places} decimal places in {currency}")
    return int(minor)


@dataclass(frozen=True)
class Amount:
    """A sum of money: whole minor units of one currency."""

    minor: int
    currency: str

    def __str__(self) -> str:
        # "700.00": every minor digit written, so a reader never wonders about rounding.
        return format(Decimal(self.minor).scaleb(-digits(self.currency)), "f")
