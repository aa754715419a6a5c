"""Psychological help on a real Redis and database: who is given which counsellor, who waits,
who is turned away, and who gets a counsellor freed by the end of a case."""

from __future__ import annotations

from counselling import asking, counsellor, load, newest, send

from korpu_contracts.vocabulary import Reason, TaskStatus
from korpu_runtime.service import Service
from psychological import bootstrap

ABBASOVA = counsellor("S. Abbasova", speaks=("az", "ru"), max_caseload=3, children=True)
MAMMADLI = counsellor("T. Məmmədli", speaks=("az", "en"), max_caseload=3)
KARIMOVA = counsellor("L. Kərimova", works_in=("Gəncə",), speaks=("ru",), max_caseload=3)
RZAYEV = counsellor("E. Rzayev", works_in=("Sumqayıt",), max_caseload=3)


async def test_a_child_gets_the_counsellor_for_children_adults_the_least_loaded_in_their_language(
    psychological: Service, redis_db: str
) -> None:
    await load(psychological, [ABBASOVA, MAMMADLI, KARIMOVA])

    await send(
        redis_db,
        asking("girl", child=True, speaks=["ru"]),
        asking("woman"),
        asking("english", speaks=["en"]),
        asking("vietnamese", speaks=["vi"]),
    )

    found = await newest(redis_db, 4)
    assert {task: (u.status, u.detail) for task, u in found.items()} == {
        # The only counsellor for children in Baku, whose Russian she speaks.
        "girl": ("accepted", {"counsellor": "S. Abbasova", "interpreter_needed": False}),
        # Both speak Azerbaijani: the one with no case yet.
        "woman": ("accepted", {"counsellor": "T. Məmmədli", "interpreter_needed": False}),
        # English first, though Məmmədli now has a case more than Abbasova.
        "english": ("accepted", {"counsellor": "T. Məmmədli", "interpreter_needed": False}),
        # Nobody speaks Vietnamese: the least loaded, with an interpreter.
        "vietnamese": ("accepted", {"counsellor": "S. Abbasova", "interpreter_needed": True}),
    }


async def test_a_child_where_nobody_counsels_children_is_not_eligible_nobody_at_all_out_of_area(
    psychological: Service, redis_db: str
) -> None:
    # Counsellors for children work in Baku, but the boy is housed in Sumqayıt.
    await load(psychological, [ABBASOVA, RZAYEV])

    await send(
        redis_db,
        asking("boy", region="Sumqayıt", child=True),
        asking("man", region="Sumqayıt"),
        asking("in-shaki", region="Şəki"),
    )

    found = await newest(redis_db, 3)
    assert (found["boy"].status, found["boy"].reason) == ("rejected", Reason.NOT_ELIGIBLE)
    assert found["man"].detail == {"counsellor": "E. Rzayev", "interpreter_needed": False}
    assert (found["in-shaki"].status, found["in-shaki"].reason) == (
        TaskStatus.REJECTED,
        Reason.OUT_OF_SERVICE_AREA,
    )


async def test_a_counsellor_for_adults_freed_passes_over_the_waiting_child_to_the_adult_behind(
    psychological: Service, redis_db: str
) -> None:
    await load(
        psychological,
        [{**ABBASOVA, "max_caseload": 1}, {**MAMMADLI, "max_caseload": 1}],
    )
    await send(redis_db, asking("first"), asking("second"))
    await newest(redis_db, 2)
    await send(redis_db, asking("girl", child=True), asking("third"))
    waiting = await newest(redis_db, 4)
    # The child comes first in line; the adult competes for Abbasova with her.
    assert [(waiting[t].status, waiting[t].detail) for t in ("girl", "third")] == [
        ("on-hold", {"waitlist_position": 1}),
        ("on-hold", {"waitlist_position": 2}),
    ]

    complete = bootstrap.SERVICE.handlers.complete
    await psychological.transaction(lambda uow: complete(uow, "second", "goal_achieved"))
    # Two answers: the end of the case and the adult's counsellor; the girl stays first.
    moved = await newest(redis_db, 6)

    assert moved["third"].detail == {"counsellor": "T. Məmmədli", "interpreter_needed": False}
    assert (moved["girl"].status, moved["girl"].detail) == ("on-hold", {"waitlist_position": 1})
    tasks = bootstrap.SERVICE.provider.tasks
    girl = await psychological.db.run(lambda conn: tasks.task(conn, "girl"))
    assert girl is not None and (girl.status, girl.counsellor_id) == ("on-hold", None)

    await psychological.transaction(lambda uow: complete(uow, "first", "goal_achieved"))
    ended = await newest(redis_db, 8)

    assert ended["first"].detail == {"counsellor": "S. Abbasova", "outcome": "goal_achieved"}
    assert ended["girl"].detail == {"counsellor": "S. Abbasova", "interpreter_needed": False}
