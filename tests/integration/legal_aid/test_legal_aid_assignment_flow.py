"""Legal aid on a real Redis and database: who gets a lawyer, who waits, who is turned away."""

from __future__ import annotations

from legal_aid_helpers import (
    answers,
    answers_by_task,
    case,
    lawyer,
    seed,
    send,
    settled,
)

from korpu_contracts.vocabulary import Reason, Sex, TaskStatus
from korpu_runtime.service import Service
from legal_aid import bootstrap


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
