"""Medical help on a real Redis and database: who is seen on which day, who waits, who cannot be."""

from __future__ import annotations

import datetime as dt

from medical_helpers import Clock, cancellation, clinic, day, latest, person, send

from korpu_contracts.vocabulary import Reason, Sex, TaskStatus
from korpu_provider.bootstrap import Entrypoints
from korpu_runtime.service import Service
from korpu_runtime.settings import ServiceSettings


async def test_each_is_booked_on_the_earliest_day_with_room_and_never_more_than_a_day_has(
    kit: Entrypoints, settings: ServiceSettings, service: Service, redis_db: str
) -> None:
    kit.seed(settings, [clinic("Baku City Hospital", per_day=2)])

    await send(redis_db, person("a"), person("b"), person("c"))

    found = await latest(redis_db, 3)
    assert [found[t].detail for t in "abc"] == [
        {"clinic": "Baku City Hospital", "appointment": day(1)},
        {"clinic": "Baku City Hospital", "appointment": day(1)},
        {"clinic": "Baku City Hospital", "appointment": day(2)},
    ]
    (shown,) = await service.db.run(kit.provider.directory_view)
    assert (shown["free"], shown["next_free_day"]) == (2 * 28 - 3, day(2))


async def test_the_persons_region_comes_first_and_a_clinic_elsewhere_says_so(
    kit: Entrypoints, settings: ServiceSettings, service: Service, redis_db: str
) -> None:
    kit.seed(
        settings,
        [
            clinic("Baku clinic", per_day=1, booking_days=1),
            clinic("Ganja City Hospital No. 1", per_day=4, region="Ganja"),
        ],
    )

    await send(redis_db, person("baku-1"), person("baku-2"), person("ganja", region="Gəncə"))

    found = await latest(redis_db, 3)
    assert found["baku-1"].detail == {"clinic": "Baku clinic", "appointment": day(1)}
    # Out of region beats waiting, and the answer says it.
    assert found["baku-2"].detail == {
        "clinic": "Ganja City Hospital No. 1",
        "appointment": day(1),
        "out_of_region": True,
    }
    assert found["ganja"].detail == {"clinic": "Ganja City Hospital No. 1", "appointment": day(1)}


async def test_a_person_no_clinic_serves_is_not_eligible(
    kit: Entrypoints, settings: ServiceSettings, service: Service, redis_db: str
) -> None:
    kit.seed(settings, [clinic("Women's consultation", per_day=4, serves=("women", "girls"))])

    await send(redis_db, person("man", sex=Sex.MALE), person("girl", child=True))

    found = await latest(redis_db, 2)
    assert (found["man"].status, found["man"].reason) == (TaskStatus.REJECTED, Reason.NOT_ELIGIBLE)
    assert found["girl"].detail == {"clinic": "Women's consultation", "appointment": day(1)}


async def test_a_cancelled_appointment_gives_its_very_day_to_the_first_waiting(
    kit: Entrypoints, settings: ServiceSettings, service: Service, redis_db: str
) -> None:
    kit.seed(settings, [clinic("Small clinic", per_day=1, booking_days=2)])
    await send(redis_db, person("a"), person("b"), person("c"))
    assert (await latest(redis_db, 3))["c"].detail == {"waitlist_position": 1}

    await send(redis_db, cancellation("a"))

    found = await latest(redis_db, 5)
    assert [found[t].status for t in "abc"] == ["cancelled", "accepted", "accepted"]
    assert found["c"].detail == {"clinic": "Small clinic", "appointment": day(1)}
    assert found["b"].detail["appointment"] == day(2)


async def test_more_appointments_seeded_go_to_those_waiting(
    kit: Entrypoints, settings: ServiceSettings, service: Service, redis_db: str
) -> None:
    kit.seed(settings, [clinic("Small clinic", per_day=1, booking_days=1)])
    await send(redis_db, person("a"), person("b"))
    assert (await latest(redis_db, 2))["b"].status is TaskStatus.ON_HOLD

    kit.seed(settings, [clinic("Small clinic", per_day=2, booking_days=1)])

    found = await latest(redis_db, 3)
    assert found["b"].detail == {"clinic": "Small clinic", "appointment": day(1)}


async def test_an_examination_held_frees_nothing_and_a_new_day_goes_to_the_waiting_first(
    kit: Entrypoints, settings: ServiceSettings, service: Service, redis_db: str, clock: Clock
) -> None:
    kit.seed(settings, [clinic("Small clinic", per_day=1, booking_days=1)])
    await send(redis_db, person("seen"), person("waiting"))
    await latest(redis_db, 2)

    await service.transaction(lambda uow: kit.handlers.complete(uow, "seen", "goal_achieved"))
    assert (await latest(redis_db, 3))["waiting"].status is TaskStatus.ON_HOLD
    # A day later, the clinic's next day opens with no event; a newcomer does not take
    # it from the person already waiting.
    clock.today += dt.timedelta(days=1)
    await send(redis_db, person("newcomer"))

    found = await latest(redis_db, 5)
    assert found["seen"].detail == {"clinic": "Small clinic", "outcome": "goal_achieved"}
    assert found["waiting"].detail == {"clinic": "Small clinic", "appointment": day(2)}
    assert (found["newcomer"].status, found["newcomer"].detail) == (
        TaskStatus.ON_HOLD,
        {"waitlist_position": 1},
    )
