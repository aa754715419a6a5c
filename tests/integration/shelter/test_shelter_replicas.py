"""Two replicas of the shelter service on one PostgreSQL database never over-allocate."""

from __future__ import annotations

import collections

import pytest
import redis.asyncio as aioredis
import shelter_harness

from korpu_contracts import referral, streams
from korpu_contracts.envelope import Envelope, source_of
from korpu_runtime import consumer
from support import bus

CONTENDERS = 30


async def test_many_requests_for_the_last_free_bed_on_two_replicas_place_exactly_one(
    redis_db: str, database_url: str
) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite has one writer: replicas on one file cannot race")
    # One entry per read, so that both replicas take a share of the burst.
    first = await shelter_harness.started(redis_db, database_url, "replica-1", max_records=1)
    second = await shelter_harness.started(redis_db, database_url, "replica-2", max_records=1)
    handled: collections.Counter[str] = collections.Counter()
    for replica in (first, second):
        _count_entries(replica, handled)
    try:
        await first.seed(
            {"name": "Baku women's house", "region": "Baku", "serves": ["women"], "beds": 3}
        )
        await first.request("resident-1")
        await first.request("resident-2")
        await first.answers(2)

        await _publish_at_once(redis_db, [f"t{n}" for n in range(CONTENDERS)])

        answers = (await first.settled())[2:]
        (facility,) = await first.facilities()
    finally:
        await first.service.stop()
        await second.service.stop()

    assert [str(a.status) for a in answers].count("accepted") == 1
    positions = sorted(
        int(a.detail["waitlist_position"] or 0) for a in answers if a.status == "on-hold"
    )
    assert positions == list(range(1, CONTENDERS))
    assert facility["occupied"] == 3
    assert handled["replica-1"] > 0 and handled["replica-2"] > 0, handled


def _count_entries(replica: shelter_harness.Shelter, handled: collections.Counter[str]) -> None:
    """Count the entries each replica consumed, to show that both really raced."""
    consume = replica.service.consume

    async def counting(
        subscription: consumer.Subscription, entries: list[consumer.Entry]
    ) -> consumer.BatchOutcome:
        handled[replica.settings.consumer_name] += len(entries)
        return await consume(subscription, entries)

    replica.service.consume = counting  # type: ignore[method-assign]


async def _publish_at_once(redis_url: str, task_ids: list[str]) -> None:
    client = aioredis.from_url(redis_url)
    try:
        pipe = client.pipeline(transaction=False)
        for task_id in task_ids:
            requested = referral.TaskRequested(
                task_id=task_id,
                referral_id=f"referral-{task_id}",
                service="shelter",
                region="Baku",
                is_child=False,
                sex="female",
            )
            envelope = Envelope.wrap(
                requested, source=source_of("referral"), subject=requested.referral_id
            )
            pipe.xadd(streams.SHELTER_REQUESTS, bus.entry(streams.SHELTER_REQUESTS, envelope))  # type: ignore[arg-type]
        await pipe.execute()
    finally:
        await client.aclose()
