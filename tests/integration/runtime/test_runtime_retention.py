"""Streams trimmed below their slowest reader, never past what a group has not finished."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
import redis.asyncio as aioredis
import sqlalchemy as sa

from korpu_runtime import retention, tables
from korpu_runtime.database import Database

STREAM = "korpu.test.retention"
HOUR_MS = 3_600_000


@pytest.fixture
async def redis(redis_db: str) -> AsyncIterator[aioredis.Redis]:
    client = aioredis.from_url(redis_db)
    yield client
    await client.aclose()


async def _add(redis: aioredis.Redis, count: int) -> list[bytes]:
    return [await redis.xadd(STREAM, {"event": str(n)}) for n in range(count)]


async def _read(redis: aioredis.Redis, group: str, count: int) -> list[bytes]:
    [(_, entries)] = await redis.xreadgroup(group, "c1", {STREAM: ">"}, count=count)
    return [entry_id for entry_id, _ in entries]


async def _left(redis: aioredis.Redis) -> list[bytes]:
    return [entry_id for entry_id, _ in await redis.xrange(STREAM)]


async def test_trimmed_below_the_oldest_pending_entry_of_the_slowest_group(
    redis: aioredis.Redis,
) -> None:
    ids = await _add(redis, 10)
    await redis.xgroup_create(STREAM, "fast", id="0")
    await redis.xgroup_create(STREAM, "slow", id="0")
    fast = await _read(redis, "fast", 10)
    await redis.xack(STREAM, "fast", *fast[:2], *fast[4:])  # the 3rd and 4th stay pending
    slow = await _read(redis, "slow", 6)
    await redis.xack(STREAM, "slow", *slow)

    removed = await retention.trim(redis, STREAM, keep_ms=HOUR_MS)

    assert removed == 2
    assert await _left(redis) == ids[2:]


async def test_entries_a_group_was_not_given_yet_stay(redis: aioredis.Redis) -> None:
    ids = await _add(redis, 5)
    await redis.xgroup_create(STREAM, "reading", id="0")
    await redis.xgroup_create(STREAM, "not-started", id="0")
    await redis.xack(STREAM, "reading", *await _read(redis, "reading", 5))

    assert await retention.trim(redis, STREAM, keep_ms=HOUR_MS) == 0
    assert await _left(redis) == ids


async def test_a_stream_read_by_no_group_keeps_its_entries_for_the_retention_period(
    redis: aioredis.Redis,
) -> None:
    now_ms = int(time.time() * 1000)
    await redis.xadd(STREAM, {"event": "old"}, id=f"{now_ms - 2 * HOUR_MS}-0")
    recent = await redis.xadd(STREAM, {"event": "recent"}, id=f"{now_ms - 60_000}-0")

    assert await retention.trim(redis, STREAM, keep_ms=HOUR_MS) == 1
    assert await _left(redis) == [recent]


async def test_published_outbox_rows_go_after_their_retention_unpublished_ones_never(
    redis: aioredis.Redis, database_url: str
) -> None:
    metadata = sa.MetaData()
    outbox, _ = tables.add_runtime_tables(metadata)
    database = Database(database_url)
    database.create_schema(metadata)
    now = datetime.now(UTC)
    rows = [
        ("old-published", now - timedelta(days=8), now - timedelta(days=8)),
        ("old-unpublished", now - timedelta(days=8), None),
        ("recent-published", now - timedelta(hours=1), now - timedelta(hours=1)),
    ]
    database.transaction(
        lambda conn: conn.execute(
            outbox.insert(),
            [
                {"event_id": e, "stream": STREAM, "body": "{}", "created_at": c, "published_at": p}
                for e, c, p in rows
            ],
        )
    )
    keeper = retention.Retention(
        database,
        redis,
        outbox,
        lambda: [STREAM],
        interval_seconds=60,
        stream_retention=timedelta(days=7),
        outbox_retention=timedelta(days=7),
    )
    try:
        _, purged = await keeper.run_once()
        left = database.transaction(
            lambda conn: sorted(conn.execute(sa.select(outbox.c.event_id)).scalars())
        )
    finally:
        database.close()
    assert purged == 1
    assert left == ["old-unpublished", "recent-published"]
