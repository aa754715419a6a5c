"""Paying a one-off allowance from a fund of the person's region, or waiting, or out of area."""

from hypothesis import given
from hypothesis import strategies as st

from korpu_provider import waitlist
from korpu_provider.decisions import Give, Refuse, Wait
from material_assistance.domain import allowance, model


def fund(
    name: str = "Baku fund",
    *,
    budget: int = 140_000,
    committed: int = 0,
    amount: int = 70_000,
    region: str = "AZ-BA",
    currency: str = "AZN",
) -> model.Fund:
    # Minor units: 140_000 is 1400.00 AZN, two allowances of 700.00.
    return model.Fund(
        id=f"f-{name}",
        name=name,
        region=region,
        currency=currency,
        budget=budget,
        committed=committed,
        amount_per_person=amount,
    )


def person(seq: int = 1, *, region: str = "AZ-BA", child: bool = False) -> model.AllowanceRequest:
    return model.AllowanceRequest(task_id=f"t-{seq}", region=region, is_child=child, queued_seq=seq)


def test_a_fund_of_the_region_with_enough_left_pays() -> None:
    baku = fund(budget=140_000, committed=70_000)

    assert allowance.decide(person(), [baku]) == Give(baku.id)


def test_no_fund_in_the_region_is_out_of_service_area_even_when_another_region_has_money() -> None:
    ganja = fund("Ganja fund", region="AZ-GA")

    assert allowance.decide(person(region="AZ-BA"), [ganja]) == Refuse("out_of_service_area")
    assert allowance.decide(person(region="AZ-BA"), []) == Refuse("out_of_service_area")


def test_a_fund_one_qepik_short_of_an_allowance_cannot_pay_and_the_person_waits() -> None:
    short = fund(budget=139_999, committed=70_000)

    assert (short.remaining, short.allowances_left) == (69_999, 0)
    assert allowance.decide(person(), [short]) == Wait("no_capacity")


def test_a_budget_cut_below_what_is_committed_leaves_nothing_never_a_debt() -> None:
    cut = fund(budget=70_000, committed=210_000)

    assert (cut.remaining, cut.allowances_left, cut.has_room) == (0, 0, False)
    assert allowance.decide(person(), [cut]) == Wait("no_capacity")


def test_among_funds_that_can_pay_the_one_with_most_allowances_left_pays_then_by_name() -> None:
    # Counted in allowances, not money: a region's funds may be in two currencies.
    rich_in_dollars = fund("Dollar fund", budget=100_000, amount=50_000, currency="USD")
    three_left = fund("Manat fund", budget=210_000, amount=70_000)
    also_three = fund("Another manat fund", budget=210_000, amount=70_000)

    chosen = allowance.decide(person(), [rich_in_dollars, three_left, also_three])

    assert chosen == Give(also_three.id)


def test_a_fund_with_money_left_pays_the_first_waiting_of_its_region_children_first() -> None:
    baku = fund()
    elsewhere, adult, child = person(1, region="AZ-GA"), person(2), person(3, child=True)

    assert waitlist.next_for(baku, [elsewhere, adult, child], model.serves) == child
    assert waitlist.next_for(baku, [elsewhere], model.serves) is None
    assert waitlist.next_for(fund(committed=140_000), [adult], model.serves) is None


@given(
    budget=st.integers(0, 10**9),
    committed=st.integers(0, 10**9),
    amount=st.integers(1, 10**7),
    region=st.sampled_from(["AZ-BA", "AZ-GA"]),
)
def test_a_fund_pays_only_in_its_region_and_only_a_whole_allowance_it_has(
    budget: int, committed: int, amount: int, region: str
) -> None:
    only = fund(budget=budget, committed=committed, amount=amount, region=region)

    decision = allowance.decide(person(region="AZ-BA"), [only])

    if region != "AZ-BA":
        assert decision == Refuse("out_of_service_area")
    elif committed + amount <= budget:
        assert decision == Give(only.id)
    else:
        assert decision == Wait("no_capacity")
