"""Legal aid on a real Redis and database: who gets a lawyer, who waits, who is turned away."""

from __future__ import annotations

from legal_aid_helpers import (
    answers,
    answers_by_task,
    cancellation,
    case,
    lawyer,
    seed,
    send,
    settled,
)

from korpu_contracts import streams
from korpu_contracts.vocabulary import Reason, Sex, TaskStatus
from korpu_runtime.service import Service
from legal_aid import bootstrap
from support import bus


async def test_the_least_loaded_lawyer_who_serves_the_region_and_shares_a_language_is_assigned(
    service: Service, redis_db: str
) -> None:
    await seed(
        service,
        [
            lawyer("Aliyev", ["Baku"], ["az"], cap=4),
            lawyer("Babayeva", ["Baku"], ["az", "ru"], cap=4),
            lawyer("Həsənov", ["Baku"], ["en"], cap=4),
            lawyer("Quliyev", ["Ganja"], ["az", "ru"], cap=4),
        ],
    )

    await send(redis_db, case("first"), case("second"), case("russian", languages=["ru"]))

    found = await answers_by_task(redis_db, 3)
    # Tied at no cases, the name decides; then the one with fewer cases; then the
    # only Baku lawyer speaking Russian, although she has more cases than Həsənov.
    assert [found[t].detail["lawyer"] for t in ("first", "second", "russian")] == [
        "Aliyev",
        "Babayeva",
        "Babayeva",
    ]
    assert {u.status for u in found.values()} == {TaskStatus.ACCEPTED}
    assert not any(u.detail["interpreter_needed"] for u in found.values())


async def test_a_man_speaking_only_russian_and_no_russian_speaker_nearby_gets_an_interpreter(
    service: Service, redis_db: str
) -> None:
    await seed(
        service,
        [lawyer("Aliyev", ["Baku"], ["az", "en"], cap=4), lawyer("Petrova", ["Ganja"], ["ru"], 4)],
    )

    await send(redis_db, case("him", sex=Sex.MALE, languages=["ru"]))

    update = (await answers_by_task(redis_db, 1))["him"]
    assert update.status is TaskStatus.ACCEPTED
    assert update.detail == {"lawyer": "Aliyev", "interpreter_needed": True}


async def test_when_every_lawyer_of_the_region_is_at_the_cap_people_wait_in_order(
    service: Service, redis_db: str
) -> None:
    await seed(service, [lawyer("Aliyev", ["Baku"], ["az"], cap=1)])

    await send(redis_db, case("one"), case("two"), case("three"))

    found = await answers_by_task(redis_db, 3)
    assert found["one"].status is TaskStatus.ACCEPTED
    for task_id, position in (("two", 1), ("three", 2)):
        assert found[task_id].status is TaskStatus.ON_HOLD
        assert found[task_id].reason is Reason.NO_CAPACITY
        assert found[task_id].detail == {"waitlist_position": position}


async def test_the_end_of_a_case_gives_the_lawyer_to_the_waiting_child_first(
    service: Service, redis_db: str
) -> None:
    await seed(service, [lawyer("Aliyev", ["Baku"], ["az"], cap=1)])
    await send(redis_db, case("open"), case("adult"), case("girl", child=True, languages=["ru"]))
    await answers_by_task(redis_db, 3)

    await service.transaction(
        lambda uow: bootstrap.SERVICE.handlers.complete(uow, "open", "goal_achieved")
    )

    found = await answers_by_task(redis_db, 5)
    assert found["open"].status is TaskStatus.COMPLETED
    assert found["open"].detail == {"lawyer": "Aliyev", "outcome": "goal_achieved"}
    assert found["girl"].status is TaskStatus.ACCEPTED
    assert found["girl"].detail == {"lawyer": "Aliyev", "interpreter_needed": True}
    assert found["adult"].status is TaskStatus.ON_HOLD


async def test_a_withdrawn_case_frees_its_lawyer_for_the_longest_waiting_person(
    service: Service, redis_db: str
) -> None:
    await seed(service, [lawyer("Aliyev", ["Baku"], ["az"], cap=1)])
    await send(redis_db, case("open"), case("earlier"), case("later"))
    await answers_by_task(redis_db, 3)

    await send(redis_db, cancellation("open"))

    found = await answers_by_task(redis_db, 5)
    assert (found["open"].status, found["open"].reason) == (TaskStatus.CANCELLED, Reason.WITHDRAWN)
    assert found["earlier"].status is TaskStatus.ACCEPTED
    assert found["later"].status is TaskStatus.ON_HOLD


async def test_when_the_person_ahead_is_given_the_lawyer_the_next_one_is_told_their_new_position(
    service: Service, redis_db: str
) -> None:
    await seed(service, [lawyer("Aliyev", ["Baku"], ["az"], cap=1)])
    await send(redis_db, case("a"), case("b"), case("c"))
    await answers(redis_db, 3)

    await send(redis_db, cancellation("a"))
    await answers(redis_db, 6)
    await settled(service, redis_db)

    later = (await answers(redis_db, 6))[3:]
    assert [(u.task_id, u.status, u.detail.get("waitlist_position")) for u in later] == [
        ("a", TaskStatus.CANCELLED, None),
        ("b", TaskStatus.ACCEPTED, None),
        ("c", TaskStatus.ON_HOLD, 1),
    ]
    assert later[-1].reason is Reason.NO_CAPACITY
    # News on c's own case: its subject and correlation, nothing tying it to a's.
    told = (await bus.read_events(redis_db, streams.LEGAL_AID_UPDATES))[-1]
    assert (told.subject, told.correlationid, told.causationid) == (
        "referral-c",
        "referral-c",
        None,
    )


async def test_a_child_put_on_hold_ahead_of_an_adult_tells_the_adult_their_new_place(
    service: Service, redis_db: str
) -> None:
    await seed(service, [lawyer("Aliyev", ["Baku"], ["az"], cap=1)])
    await send(redis_db, case("open"), case("adult"))
    await answers(redis_db, 2)

    await send(redis_db, case("girl", child=True))
    await settled(service, redis_db)

    later = (await answers(redis_db, 4))[2:]
    assert [(u.task_id, u.detail) for u in later] == [
        ("girl", {"waitlist_position": 1}),
        ("adult", {"waitlist_position": 2}),
    ]


async def test_nobody_serving_the_region_is_out_of_service_area(
    service: Service, redis_db: str
) -> None:
    await seed(service, [lawyer("Quliyev", ["Ganja"], ["az"], cap=4)])

    await send(redis_db, case("in-baku", region="Baku"))

    update = (await answers_by_task(redis_db, 1))["in-baku"]
    assert (update.status, update.reason) == (TaskStatus.REJECTED, Reason.OUT_OF_SERVICE_AREA)
