"""Two replicas of the service racing for the last seat never give it twice."""

from __future__ import annotations

import asyncio

import pytest
from employment_harness import Employment, program, settings

REQUESTS = 12


async def test_two_replicas_give_the_last_free_seat_to_exactly_one_person(
    redis_db: str, database_url: str
) -> None:
    if database_url.startswith("sqlite"):
        pytest.skip("SQLite has a single writer; row locks matter on PostgreSQL")
    # One entry per read, so both replicas take turns at the stream instead of one
    # of them reading every request in a single batch.
    replicas = [
        Employment(settings(redis_db, database_url, consumer_name=name, max_records=1))
        for name in ("replica-a", "replica-b")
    ]
    # One after the other: two concurrent create_all would race on the schema.
    for replica in replicas:
        await replica.start()
    first = replicas[0]
    try:
        await first.seed([program("Tailoring", seats=1)])
        task_ids = [f"racer-{n}" for n in range(REQUESTS)]

        await asyncio.gather(*(first.ask(task_id) for task_id in task_ids))

        answers = await first.answers(*task_ids)
        statuses = sorted(answer.status for answer in answers.values())
        assert statuses == ["accepted"] + ["on-hold"] * (REQUESTS - 1)
        positions = sorted(int(a.detail.get("waitlist_position") or 0) for a in answers.values())
        assert positions == list(range(REQUESTS))
        assert (await first.programs())["Tailoring"]["enrolled"] == 1
        assert {u.task_id for _, u in await first.updates()} == set(task_ids)
    finally:
        for replica in replicas:
            await replica.stop()
