"""A service that stops finishes what it read, even a read its reader never saw."""

from __future__ import annotations

import redis.asyncio as aioredis

from korpu_contracts import referral, streams
from korpu_contracts.envelope import Envelope
from shelter import bootstrap
from support import bus


async def test_entries_read_as_the_reader_was_stopped_are_handled_before_the_service_ends(
    redis_db: str, database_url: str
) -> None:
    settings = bootstrap.Settings(
        redis_url=redis_db, database_url=database_url, consumer_name="shelter-1"
    )
    requested = referral.TaskRequested(
        task_id="t-1", referral_id="r-1", service="shelter", region="Baku",
        is_child=False, sex="female", age_years=30, accompanying_children=0,
    )  # fmt: skip
    envelope = Envelope.wrap(requested, source="korpu/referral", subject="r-1")
    client = aioredis.from_url(redis_db)
    try:
        await client.xgroup_create(
            streams.SHELTER_REQUESTS, streams.GROUP_SHELTER, "0", mkstream=True
        )
        await client.xadd(streams.SHELTER_REQUESTS, bus.entry(streams.SHELTER_REQUESTS, envelope))  # type: ignore[arg-type]
        # What Redis answered to a read cancelled by the stop: delivered to this
        # consumer, pending, seen by no handler (the running reader reads only new ones).
        await client.xreadgroup(
            streams.GROUP_SHELTER, "shelter-1", {streams.SHELTER_REQUESTS: ">"}, count=10
        )
        app = bootstrap.build_app(settings)
        async with app.router.lifespan_context(app):
            pass
        pending = await client.xpending(streams.SHELTER_REQUESTS, streams.GROUP_SHELTER)
    finally:
        await client.aclose()

    assert pending["pending"] == 0
    database = bootstrap.build_service(settings).db
    try:
        task = await database.run(lambda conn: bootstrap.SERVICE.task_view(conn, "t-1"))
    finally:
        database.close()
    assert task is not None and task["status"] == "rejected"  # no shelter in the directory
