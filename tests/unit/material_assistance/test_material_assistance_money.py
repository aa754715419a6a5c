"""Money held exactly: minor units in, decimal strings out, and a seed entry's amounts checked."""

from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from korpu_provider import directory
from material_assistance import bootstrap
from material_assistance.domain import money

PROVIDER = bootstrap.SERVICE.provider


def entry(**changes: Any) -> dict[str, Any]:
    base = {
        "name": "Baku fund",
        "region": "Baku",
        "budget": "4200.00",
        "amount_per_person": "700.00",
        "currency": "AZN",
    }
    return {**base, **changes}


def refused(*entries: dict[str, Any]) -> list[str]:
    with pytest.raises(directory.InvalidDirectory) as error:
        directory.validate(PROVIDER, list(entries))
    return error.value.errors


def test_an_amount_is_held_in_minor_units_and_written_with_every_minor_digit() -> None:
    assert money.to_minor(Decimal("250.5"), "AZN") == 25_050
    assert money.to_minor(Decimal("700"), "AZN") == 70_000
    assert str(money.Amount(70_000, "AZN")) == "700.00"
    assert str(money.Amount(5, "EUR")) == "0.05"


def test_a_thousandth_of_a_manat_is_refused_not_rounded() -> None:
    with pytest.raises(money.MoneyError, match="at most 2 decimal places in AZN"):
        money.to_minor(Decimal("250.005"), "AZN")


@given(minor=st.integers(0, 10**14))
def test_writing_an_amount_and_reading_it_back_gives_the_same_minor_units(minor: int) -> None:
    written = str(money.Amount(minor, "AZN"))

    assert money.to_minor(Decimal(written), "AZN") == minor


def test_a_seed_entry_stores_its_amounts_as_minor_units_from_strings_numbers_or_decimals() -> None:
    (as_strings,) = directory.validate(PROVIDER, [entry()])
    (as_numbers,) = directory.validate(
        PROVIDER, [entry(budget=4200, amount_per_person=Decimal("700.00"))]
    )

    for valid in (as_strings, as_numbers):
        stored = valid.stored()
        assert (stored["budget"], stored["amount_per_person"]) == (420_000, 70_000)
        assert (stored["region"], stored["currency"]) == ("AZ-BA", "AZN")


def test_a_third_decimal_is_refused_naming_the_field() -> None:
    errors = refused(entry(budget="4200.001", amount_per_person="700.005"))

    assert errors == [
        "funds[0].budget: Value error, at most 2 decimal places in AZN",
        "funds[0].amount_per_person: Value error, at most 2 decimal places in AZN",
    ]


def test_an_unknown_or_misspelt_currency_is_refused_clearly() -> None:
    unknown, lower_case = refused(entry(currency="XYZ"), entry(name="Other", currency="azn"))

    assert unknown.startswith("funds[0].currency: Value error, unknown currency 'XYZ'; accepted:")
    assert "AZN" in unknown
    assert lower_case.startswith("funds[1].currency: String should match pattern")


def test_a_binary_fraction_a_negative_budget_or_a_zero_allowance_is_refused() -> None:
    errors = refused(
        entry(budget=4200.5),  # a JSON number read as a float would be this
        entry(name="Negative", budget="-1.00"),
        entry(name="Nothing", amount_per_person="0"),
        entry(name="Flag", amount_per_person=True),
    )

    assert [error.split(":")[0] for error in errors] == [
        "funds[0].budget",
        "funds[1].budget",
        "funds[2].amount_per_person",
        "funds[3].amount_per_person",
    ]
    assert "decimal string" in errors[0]


def test_every_field_of_a_fund_is_required() -> None:
    errors = refused({"name": "Baku fund"})

    assert sorted(error.split(":")[0] for error in errors) == [
        "funds[0].amount_per_person",
        "funds[0].budget",
        "funds[0].currency",
        "funds[0].region",
    ]
