"""The shelter service on a real Redis and database: placing, waitlisting and promoting."""

from __future__ import annotations

from typing import Any

import redis.asyncio as aioredis
import shelter_harness

from korpu_contracts import streams
from korpu_contracts.providers import TaskUpdated
from support import bus


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
    assert answers[0].detail == {"facility": "Baku women's house", "region": "Baku"}
    assert [(a.status, a.reason) for a in answers[3:]] == [("on-hold", "no_capacity")] * 7
    assert [a.detail for a in answers[3:]] == [{"waitlist_position": p} for p in range(1, 8)]


async def test_a_cancelled_placement_gives_its_bed_to_the_longest_waiting_person(
    shelter: shelter_harness.Shelter,
) -> None:
    await shelter.seed(shelter_for("Baku women's house", ["women"], beds=1))
    for n in range(1, 4):
        await shelter.request(f"t{n}")
    await shelter.answers(3)

    cancel = await shelter.cancel("t1")
    answers = await shelter.answers(6)

    cancelled, promoted, moved_up = answers[3:]
    assert (cancelled.task_id, cancelled.status, cancelled.reason) == (
        "t1",
        "cancelled",
        "withdrawn",
    )
    assert (promoted.task_id, promoted.status) == ("t2", "accepted")
    assert promoted.detail == {"facility": "Baku women's house", "region": "Baku"}
    assert (moved_up.task_id, moved_up.status) == ("t3", "on-hold")
    # The promotion is filed under the promoted person's own case; its cause is the
    # cancellation that freed the bed (korpu_provider.answers).
    envelopes = await shelter.envelopes()
    assert (envelopes[-2].subject, envelopes[-2].correlationid) == ("referral-t2",) * 2
    assert envelopes[-2].causationid == cancel.id
    assert envelopes[-3].causationid == cancel.id


async def test_when_the_person_ahead_is_placed_the_next_one_is_told_their_new_position(
    shelter: shelter_harness.Shelter,
) -> None:
    await shelter.seed(shelter_for("Baku women's house", ["women"], beds=1))
    for name in ("a", "b", "c"):
        await shelter.request(name)
    first = await shelter.answers(3)
    assert [a.detail.get("waitlist_position") for a in first] == [None, 1, 2]

    await shelter.cancel("a")
    await shelter.answers(6)

    answers = await shelter.settled()
    assert [(a.task_id, a.status, a.detail.get("waitlist_position")) for a in answers[3:]] == [
        ("a", "cancelled", None),
        ("b", "accepted", None),
        ("c", "on-hold", 1),
    ]
    # News on c's own case: its subject and correlation, nothing tying it to a's.
    told = (await shelter.envelopes())[-1]
    assert (told.subject, told.correlationid, told.causationid) == (
        "referral-c",
        "referral-c",
        None,
    )


async def test_when_someone_ahead_leaves_the_waitlist_those_behind_move_up(
    shelter: shelter_harness.Shelter,
) -> None:
    await shelter.seed(shelter_for("Baku women's house", ["women"], beds=1))
    for name in ("a", "b", "c", "d"):
        await shelter.request(name)
    await shelter.answers(4)

    await shelter.cancel("b")
    await shelter.answers(7)

    answers = await shelter.settled()
    assert [(a.task_id, a.status, a.detail.get("waitlist_position")) for a in answers[4:]] == [
        ("b", "cancelled", None),
        ("c", "on-hold", 1),
        ("d", "on-hold", 2),
    ]


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
    assert first.detail == {"facility": "Ganja centre", "region": "Ganja"}
    assert (second.status, second.detail) == (
        "accepted",
        {"facility": "Baku women's house", "region": "Baku"},
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
    assert first["woman"].detail == {"facility": "Mixed house", "region": "Baku"}

    await shelter.cancel("placed")

    latest = by_task(await shelter.answers(5))
    assert (latest["girl"].status, latest["girl"].detail) == (
        "accepted",
        {"facility": "Children's house", "region": "Baku"},
    )


async def test_a_duplicate_delivery_of_one_request_allocates_once(
    shelter: shelter_harness.Shelter,
) -> None:
    await shelter.seed(shelter_for("Baku women's house", ["women"], beds=2))
    envelope = await shelter.request("t1")
    client = aioredis.from_url(shelter.redis_url)
    try:  # The same entry again, as a relay that died before marking it would send it.
        await client.xadd(streams.SHELTER_REQUESTS, bus.entry(streams.SHELTER_REQUESTS, envelope))  # type: ignore[arg-type]
    finally:
        await client.aclose()

    answers = await shelter.settled()

    assert [(a.task_id, a.status) for a in answers] == [("t1", "accepted")]
    (facility,) = await shelter.facilities()
    assert facility["occupied"] == 1


async def test_the_same_task_requested_twice_in_two_events_is_decided_once(
    shelter: shelter_harness.Shelter,
) -> None:
    await shelter.seed(shelter_for("Baku women's house", ["women"], beds=2))
    await shelter.request("t1")
    await shelter.request("t1")

    answers = await shelter.settled()

    assert [(a.task_id, a.status) for a in answers] == [("t1", "accepted")]


async def test_a_cancellation_arriving_before_its_request_is_never_allocated(
    shelter: shelter_harness.Shelter,
) -> None:
    await shelter.seed(shelter_for("Baku women's house", ["women"], beds=2))

    await shelter.cancel("t1")
    await shelter.request("t1")

    answers = await shelter.settled()
    assert [(a.task_id, a.status, a.reason) for a in answers] == [("t1", "cancelled", "withdrawn")]
    (facility,) = await shelter.facilities()
    assert facility["occupied"] == 0
