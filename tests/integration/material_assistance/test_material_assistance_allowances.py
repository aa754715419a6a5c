"""One-off allowances on the bus: who is paid, how much, who waits, and what a budget releases."""

from __future__ import annotations

from material_assistance_harness import Assistance, fund


async def test_a_fund_of_the_region_pays_and_the_answer_says_the_amount_as_an_exact_string(
    assistance: Assistance,
) -> None:
    await assistance.seed(fund("Baku fund"), fund("Ganja fund", region="Ganja", amount="650.50"))

    await assistance.ask("in-ganja", region="Gəncə")
    envelope, answer = await assistance.told("in-ganja", "accepted")

    assert answer.detail == {"fund": "Ganja fund", "amount": "650.50", "currency": "AZN"}
    # The event's JSON as any client reads it: a string, never a JSON number.
    assert envelope.data["detail"]["amount"] == "650.50"
    baku, ganja = (await assistance.funds()).values()
    assert (baku["committed"], ganja["committed"], ganja["remaining"]) == (
        "0.00",
        "650.50",
        "749.50",
    )


async def test_no_fund_in_the_persons_region_is_out_of_service_area(assistance: Assistance) -> None:
    await assistance.seed(fund("Baku fund", budget="70000.00"))

    await assistance.ask("in-ganja", region="Ganja")
    _, answer = await assistance.told("in-ganja", "rejected")

    assert answer.reason == "out_of_service_area"
    assert (await assistance.funds())["Baku fund"]["committed"] == "0.00"


async def one_paid_and_three_waiting(assistance: Assistance) -> None:
    """A fund of one allowance; then two adults and, last, a child (who goes ahead of them)."""
    await assistance.seed(fund(budget="700.00"))
    await assistance.ask("paid", "first-adult", "second-adult")
    await assistance.ask("child", child=True)
    await assistance.told("second-adult", "on-hold", waitlist_position=3)


async def test_people_a_fund_cannot_pay_wait_in_order_a_child_ahead_of_the_adults(
    assistance: Assistance,
) -> None:
    await one_paid_and_three_waiting(assistance)

    latest = await assistance.latest()
    assert [(latest[t].status, latest[t].reason) for t in ("paid", "child")] == [
        ("accepted", None),
        ("on-hold", "no_capacity"),
    ]
    waiting = ("child", "first-adult", "second-adult")
    assert [latest[t].detail["waitlist_position"] for t in waiting] == [1, 2, 3]
    assert (await assistance.funds())["Baku fund"]["waiting"] == 3


async def test_raising_the_budget_pays_exactly_as_many_as_the_difference_covers_in_order(
    assistance: Assistance,
) -> None:
    await one_paid_and_three_waiting(assistance)

    # 1800.00 more: two allowances of 700.00, and 400.00 that pays no one.
    loaded = await assistance.seed(fund(budget="2500.00"))
    await assistance.told("second-adult", "on-hold", waitlist_position=1)

    assert (loaded.added, loaded.updated, loaded.promoted) == (0, 1, 2)
    statuses = await assistance.statuses("paid", "child", "first-adult", "second-adult")
    assert statuses == ["accepted", "accepted", "accepted", "on-hold"]
    baku = (await assistance.funds())["Baku fund"]
    assert (baku["budget"], baku["committed"], baku["remaining"]) == (
        "2500.00",
        "2100.00",
        "400.00",
    )
    assert (baku["allowances_left"], baku["waiting"]) == (0, 1)


async def test_a_cancelled_allowance_gives_back_exactly_what_it_held_though_the_allowance_changed(
    assistance: Assistance,
) -> None:
    await assistance.seed(fund(budget="700.00", amount="700.00"))
    await assistance.ask("paid", "waiting")
    await assistance.told("waiting", "on-hold")
    await assistance.seed(fund(budget="700.00", amount="500.00"))

    cancel = await assistance.cancel("paid")
    promoted, answer = await assistance.told("waiting", "accepted")

    # 700.00 came back (not today's 500.00), and 500.00 of it paid the next in line.
    assert answer.detail == {"fund": "Baku fund", "amount": "500.00", "currency": "AZN"}
    assert promoted.causationid == cancel.id
    baku = (await assistance.funds())["Baku fund"]
    assert (baku["committed"], baku["remaining"]) == ("500.00", "200.00")
    assert (await assistance.latest())["paid"].reason == "withdrawn"


async def test_a_paid_allowance_is_spent_completing_it_gives_nothing_back(
    assistance: Assistance,
) -> None:
    await assistance.seed(fund(budget="700.00"))
    await assistance.ask("paid", "waiting")
    await assistance.told("waiting", "on-hold")
    await assistance.seed(fund(budget="700.00", amount="600.00"))

    response = await assistance.client.post(
        "/v1/tasks/paid/complete", json={"outcome": "goal_achieved"}
    )
    _, completed = await assistance.told("paid", "completed")

    assert response.status_code == 200
    # The amount the task held, not the fund's allowance now.
    assert completed.detail == {
        "fund": "Baku fund",
        "amount": "700.00",
        "currency": "AZN",
        "outcome": "goal_achieved",
    }
    assert await assistance.statuses("waiting") == ["on-hold"]
    assert (await assistance.funds())["Baku fund"]["committed"] == "700.00"


async def test_a_budget_cut_below_what_is_committed_pays_nobody_more_and_owes_nothing(
    assistance: Assistance,
) -> None:
    await assistance.seed(fund(budget="1400.00"))
    await assistance.ask("first", "second")
    await assistance.told("second", "accepted")

    await assistance.seed(fund(budget="500.00"))
    await assistance.ask("third")
    await assistance.told("third", "on-hold", waitlist_position=1)

    baku = (await assistance.funds())["Baku fund"]
    assert (baku["budget"], baku["committed"], baku["remaining"]) == ("500.00", "1400.00", "0.00")
    assert await assistance.statuses("first", "second") == ["accepted", "accepted"]
