"""Legal aid under at-least-once delivery: duplicates, reordering and two replicas at once."""

from __future__ import annotations

import asyncio

import pytest
from legal_aid_helpers import (
    answers,
    answers_by_task,
    cancellation,
    case,
    caseloads,
    lawyer,
    raw_republish,
    seed,
    send,
    settled,
)

from korpu_contracts import streams
from korpu_contracts.vocabulary import Reason, TaskStatus
from korpu_runtime.service import Service
from legal_aid import bootstrap
from support import bus


async def test_the_same_request_delivered_twice_is_allocated_once(
    service: Service, redis_db: str
) -> None:
    await seed(service, [lawyer("Aliyev", ["Baku"], ["az"], cap=4)])
    envelope = await bus.publish(
        redis_db, streams.LEGAL_AID_REQUESTS, case("once"), subject="referral-once"
    )

    await raw_republish(redis_db, envelope)
    await settled(service, redis_db)

    sent = await answers(redis_db, 1)
    assert [(u.task_id, u.status) for u in sent] == [("once", TaskStatus.ACCEPTED)]
    assert await caseloads(service) == {"Aliyev": 1}


async def test_the_answer_belongs_to_the_case_and_names_the_request_as_its_cause(
    service: Service, redis_db: str
) -> None:
    await seed(service, [lawyer("Aliyev", ["Baku"], ["az"], cap=4)])
    request = await bus.publish(
        redis_db, streams.LEGAL_AID_REQUESTS, case("traced"), subject="referral-traced"
    )

    await answers(redis_db, 1)

    (answer,) = await bus.read_events(redis_db, streams.LEGAL_AID_UPDATES)
    assert (answer.subject, answer.correlationid) == (request.subject, request.correlationid)
    assert answer.causationid == request.id


async def test_a_cancellation_overtaking_its_request_means_the_request_is_never_allocated(
    service: Service, redis_db: str
) -> None:
    await seed(service, [lawyer("Aliyev", ["Baku"], ["az"], cap=4)])

    await send(redis_db, cancellation("late"), case("late"))
    await settled(service, redis_db)

    sent = await answers(redis_db, 1)
    assert [(u.task_id, u.status, u.reason) for u in sent] == [
        ("late", TaskStatus.CANCELLED, Reason.WITHDRAWN)
    ]
    assert await caseloads(service) == {"Aliyev": 0}


async def test_two_replicas_racing_for_the_last_free_lawyer_give_it_to_exactly_one_person(
    redis_db: str, database_url: str
) -> None:
    if database_url.startswith("sqlite"):
        pytest.skip("SQLite has one writer at a time: replicas cannot race on it")
    replicas = [
        bootstrap.build_service(
            bootstrap.Settings(
                redis_url=redis_db, database_url=database_url, consumer_name=name, max_records=1
            )
        )
        for name in ("replica-1", "replica-2")
    ]
    # One after the other: Service.start runs create_all, and two of them at once on
    # one PostgreSQL database race on CREATE TABLE (reported to the runtime's owner).
    for replica in replicas:
        await replica.start()
    try:
        await seed(replicas[0], [lawyer("Aliyev", ["Baku"], ["az"], cap=1)])
        people = 20

        await send(redis_db, *(case(f"person-{n}") for n in range(people)))

        found = await answers_by_task(redis_db, people)
        statuses = [update.status for update in found.values()]
        assert statuses.count(TaskStatus.ACCEPTED) == 1
        assert statuses.count(TaskStatus.ON_HOLD) == people - 1
        assert await caseloads(replicas[0]) == {"Aliyev": 1}
    finally:
        await asyncio.gather(*(replica.stop() for replica in replicas))
