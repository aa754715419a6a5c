"""Relays of several replicas share one outbox: each row sent once, none left behind."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta

import pytest
import redis.asyncio as aioredis
import sqlalchemy as sa

from korpu_runtime import tables
from korpu_runtime.database import Database
from korpu_runtime.relay import Relay
from support import bus
from support.infra import wait_for

STREAM = "korpu.test.relay"
ROWS = 2_000

metadata = sa.MetaData()
outbox, _ = tables.add_runtime_tables(metadata)


@pytest.fixture
async def make_relay(redis_db: str, database_url: str) -> AsyncIterator[Callable[[str], Relay]]:
    databases: list[Database] = []
    clients: list[aioredis.Redis] = []

    def make(owner: str, claim_seconds: float = 10.0) -> Relay:
        # One Database and Redis client each, as separate replica processes would have.
        database, client = Database(database_url), aioredis.from_url(redis_db)
        database.create_schema(metadata)
        databases.append(database)
        clients.append(client)
        return Relay(
            database,
            client,
            outbox,
            60.0,
            owner=owner,
            signer=bus.signer("tests"),
            claim_seconds=claim_seconds,
        )

    yield make
    for client in clients:
        await client.aclose()
    for database in databases:
        database.close()


def _write(relay_db: Database, count: int, **values: object) -> None:
    now = datetime.now(UTC)
    rows = [
        {"event_id": f"e-{n}", "stream": STREAM, "body": f'{{"n": {n}}}', "created_at": now}
        | values
        for n in range(count)
    ]
    relay_db.transaction(lambda conn: conn.execute(outbox.insert(), rows))


async def _sent(redis_db: str) -> list[bytes]:
    client = aioredis.from_url(redis_db)
    try:
        return [fields[b"event"] for _, fields in await client.xrange(STREAM)]
    finally:
        await client.aclose()


async def test_replicas_flushing_at_once_send_every_row_exactly_once(
    make_relay: Callable[..., Relay], redis_db: str
) -> None:
    relays = [make_relay(f"replica-{n}") for n in range(3)]
    _write(relays[0]._db, ROWS)

    counts = await asyncio.gather(*(relay.flush() for relay in relays))

    sent = await _sent(redis_db)
    assert len(sent) == ROWS and len(set(sent)) == ROWS
    assert sum(counts) == ROWS


async def test_rows_claimed_by_a_relay_that_died_are_sent_once_its_claim_runs_out(
    make_relay: Callable[..., Relay], redis_db: str
) -> None:
    relay = make_relay("survivor")
    until = datetime.now(UTC) + timedelta(seconds=1)
    _write(relay._db, 10, claimed_by="dead-replica", claimed_until=until)

    assert await relay.flush() == 0  # still held by the dead relay's claim

    async def all_sent() -> bool:
        await relay.flush()
        return len(await _sent(redis_db)) == 10

    await wait_for(all_sent, message="rows of a dead relay's claim never sent")
