"""What a dead letter holds, and an outbox row sent once: promises mutation testing found unguarded.

The dead letter is all an operator has to go on (`korpu dlq list`): where the entry came
from, why it failed, how often, when. The relay marks what it sent, so no row goes out
twice once its claim runs out. Each test kills mutants (scripts/mutation) that every other
test let live.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import redis.asyncio as aioredis
import sqlalchemy as sa

from korpu_contracts import streams
from korpu_runtime import parking, tables
from korpu_runtime.consumer import Entry, Subscription
from korpu_runtime.database import Database
from korpu_runtime.redelivery import Policy, Redelivery, errors_key
from korpu_runtime.relay import Relay

STREAM = "korpu.test.mutants"
GROUP = "test-mutants"
metadata = sa.MetaData()
outbox, _ = tables.add_runtime_tables(metadata)


@pytest.fixture
def in_baku(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The process's local zone is UTC+4, as on a server set to the agencies' own time."""
    monkeypatch.setenv("TZ", "Asia/Baku")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.fixture
async def client(redis_db: str) -> AsyncIterator[aioredis.Redis]:
    connection = aioredis.from_url(redis_db)
    yield connection
    await connection.aclose()


def _about_now(moment: datetime) -> bool:
    """SQLite gives a time back without its zone: what was written must have been UTC."""
    moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return abs(datetime.now(UTC) - moment) < timedelta(minutes=1)


async def test_a_sent_row_is_marked_and_not_sent_again_once_its_claim_runs_out(
    client: aioredis.Redis, database_url: str, in_baku: None
) -> None:
    database = Database(database_url)
    database.create_schema(metadata)
    now = datetime.now(UTC)
    rows = [
        {"event_id": f"e-{n}", "stream": STREAM, "body": f'{{"n": {n}}}', "created_at": now}
        for n in range(3)
    ]
    database.transaction(lambda conn: conn.execute(outbox.insert(), rows))
    # A claim that is over as soon as it is taken: only the mark keeps a row from going again.
    relay = Relay(database, client, outbox, 60.0, owner="relay-1", claim_seconds=0.0)
    try:
        assert await relay.flush() == 3
        assert await relay.flush() == 0

        assert await client.xlen(STREAM) == 3
        marks = await database.run(
            lambda conn: list(conn.execute(sa.select(outbox.c.published_at)).scalars())
        )
        assert len(marks) == 3 and all(_about_now(mark) for mark in marks)
    finally:
        database.close()


class _Dead:
    """One entry read once by a consumer that died, dead-lettered at the next sweep."""

    def __init__(self, client: aioredis.Redis, *, personal_data: bool = False) -> None:
        self.client = client
        self.subscription = Subscription(
            name="test.mutants", stream=STREAM, group=GROUP, handler=_never,
            personal_data=personal_data,
        )  # fmt: skip
        self.parked: list[tuple[str, bytes]] = []

    async def park(self, token: str, body: bytes) -> None:
        self.parked.append((token, body))

    async def letter(self, fields: dict[str, str], error: str | None = None) -> dict[bytes, Any]:
        """Dead-letters an entry of `fields` (its id kept in `entry_id`); returns the letter."""
        await self.client.xgroup_create(STREAM, GROUP, id="0", mkstream=True)
        added: Any = await self.client.xadd(STREAM, fields)  # type: ignore[arg-type]
        self.entry_id: str = added.decode()
        await self.client.xreadgroup(GROUP, "gone", {STREAM: ">"})
        if error is not None:
            await self.client.hset(errors_key(self.subscription), self.entry_id, error)
        policy = Policy(claim_idle_ms=0, max_deliveries=1)
        sweeper = Redelivery(self.client, self.subscription, "c1", policy, _no_retry, self.park)

        assert await sweeper.sweep() == 1

        letters: Any = await self.client.xrange(streams.DEAD_LETTERS)
        [(_, letter)] = letters
        pending: dict[str, Any] = await self.client.xpending(STREAM, GROUP)
        assert pending["pending"] == 0
        assert await self.client.hlen(errors_key(self.subscription)) == 0
        return dict(letter)


def _never(*_args: Any) -> None:
    raise AssertionError("a dead letter runs no handler")


async def _no_retry(_subscription: Subscription, _entries: list[Entry]) -> Any:
    raise AssertionError("an entry at its last delivery is not retried")


async def test_a_dead_letter_says_where_it_came_from_why_how_often_and_when(
    client: aioredis.Redis,
) -> None:
    dead = _Dead(client)

    letter = await dead.letter({streams.ENTRY_FIELD: '{"n": 1}'}, error="ValueError: bad")

    dead_at = datetime.fromisoformat(letter.pop(b"dead_at").decode())
    assert dead_at.utcoffset() == timedelta(0) and _about_now(dead_at)
    assert letter == {
        b"origin_stream": STREAM.encode(),
        b"origin_id": dead.entry_id.encode(),
        b"group": GROUP.encode(),
        b"handler": b"test.mutants",
        b"error": b"ValueError: bad",
        b"deliveries": b"1",
        streams.ENTRY_FIELD.encode(): b'{"n": 1}',
    }


async def test_garbage_without_an_event_field_is_still_dead_lettered(
    client: aioredis.Redis,
) -> None:
    letter = await _Dead(client).letter({"junk": "x"})

    assert letter[streams.ENTRY_FIELD.encode()] == b""
    assert letter[b"error"] == b"unknown: the handler's error was not recorded"


async def test_a_dead_letter_of_personal_data_carries_a_token_and_the_entry_is_parked(
    client: aioredis.Redis,
) -> None:
    dead = _Dead(client, personal_data=True)

    letter = await dead.letter({streams.ENTRY_FIELD: '{"name": "Aysel"}'})

    token = parking.token_for(STREAM, dead.entry_id)
    assert dead.parked == [(token, b'{"name": "Aysel"}')]
    assert letter[streams.ENTRY_FIELD.encode()] == b""
    assert letter[streams.PARKED_FIELD.encode()] == token.encode()
    assert await client.xlen(STREAM) == 0


async def test_an_entry_parked_already_is_dead_lettered_under_its_own_token(
    client: aioredis.Redis,
) -> None:
    dead = _Dead(client, personal_data=True)

    letter = await dead.letter({streams.PARKED_FIELD: "korpu.intake/1-0"})

    assert dead.parked == []
    assert letter[streams.PARKED_FIELD.encode()] == b"korpu.intake/1-0"
