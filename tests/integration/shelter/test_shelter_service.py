"""The shelter service on a real Redis and database: placing, waitlisting and promoting."""

from __future__ import annotations

from typing import Any

import shelter_harness

from korpu_contracts.providers import TaskUpdated


def shelter_for(name: str, serves: list[str], beds: int, region: str = "Baku") -> dict[str, Any]:
    return {"name": name, "region": region, "serves": serves, "beds": beds}


def by_task(updates: list[TaskUpdated]) -> dict[str, TaskUpdated]:
    """Each task's latest answer."""
    return {update.task_id: update for update in updates}


async def test_ten_people_for_three_beds_three_placed_seven_waitlisted_in_order(
    shelter: shelter_harness.Shelter,
) -> None:
    await shelter.seed(
        shelter_for("Baku women's house", ["women"], beds=3),
        shelter_for("Ganja men's house", ["men"], beds=20, region="Ganja"),
    )
    for n in range(1, 11):
        await shelter.request(f"t{n}")

    answers = await shelter.answers(10)

    assert [a.task_id for a in answers] == [f"t{n}" for n in range(1, 11)]
    assert [a.status for a in answers[:3]] == ["accepted"] * 3
    assert answers[0].detail == {"facility": "Baku women's house", "region": "AZ-BA"}
    assert [(a.status, a.reason) for a in answers[3:]] == [("on-hold", "no_capacity")] * 7
    assert [a.detail for a in answers[3:]] == [{"waitlist_position": p} for p in range(1, 8)]


async def test_a_girl_of_15_is_never_placed_where_only_women_are_served(
    shelter: shelter_harness.Shelter,
) -> None:
    await shelter.seed(shelter_for("Baku women's house", ["women"], beds=10))

    await shelter.request("girl", is_child=True, age=15)

    (answer,) = await shelter.answers(1)
    assert (answer.status, answer.reason) == ("rejected", "not_eligible")


async def test_placed_in_another_region_when_the_requested_region_is_full(
    shelter: shelter_harness.Shelter,
) -> None:
    await shelter.seed(
        shelter_for("Ganja centre", ["women", "girls"], beds=1, region="Ganja"),
        shelter_for("Baku women's house", ["women"], beds=5),
    )

    await shelter.request("first", region="Ganja")
    await shelter.request("second", region="Ganja")

    first, second = await shelter.answers(2)
    assert first.detail == {"facility": "Ganja centre", "region": "AZ-GA"}
    assert (second.status, second.detail) == (
        "accepted",
        {"facility": "Baku women's house", "region": "AZ-BA", "out_of_region": True},
    )


async def test_a_girl_waits_for_a_childrens_bed_and_gets_the_first_one_freed(
    shelter: shelter_harness.Shelter,
) -> None:
    await shelter.seed(
        shelter_for("Children's house", ["girls", "boys"], beds=1),
        shelter_for("Mixed house", ["women", "girls"], beds=3),
    )
    await shelter.request("placed", is_child=True, age=15)
    await shelter.request("girl", is_child=True, age=16)
    await shelter.request("woman")
    first = by_task(await shelter.answers(3))
    # A free bed where women are served is no place for a girl: she waits.
    assert (first["girl"].status, first["girl"].detail) == ("on-hold", {"waitlist_position": 1})
    assert first["woman"].detail == {"facility": "Mixed house", "region": "AZ-BA"}

    await shelter.cancel("placed")

    latest = by_task(await shelter.answers(5))
    assert (latest["girl"].status, latest["girl"].detail) == (
        "accepted",
        {"facility": "Children's house", "region": "AZ-BA"},
    )
