"""The relay's and redelivery's promises that mutation testing found unguarded.

The relay marks what it sent (no row goes out twice once its claim runs out), sends
unwoken within its poll interval, outlives a failed send, sends on stopping what was
committed, and stops even when its Redis client swallows the cancellation. A sweep
takes every due entry past deleted and not-yet-due ones, and forgets consumers long
gone. A dead letter is all an operator has to go on (`korpu dlq list`): where the
entry came from, why it failed, how often, when. Each test kills mutants
(scripts/mutation) that every other test let live.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import redis.asyncio as aioredis
import sqlalchemy as sa

from korpu_contracts import streams
from korpu_runtime import parking, signing, tables
from korpu_runtime.consumer import BatchOutcome, Entry, Subscription
from korpu_runtime.database import Database
from korpu_runtime.redelivery import Policy, Redelivery, errors_key
from korpu_runtime.relay import Relay
from support import bus
from support.infra import wait_for

STREAM = "korpu.test.mutants"
GROUP = "test-mutants"
metadata = sa.MetaData()
outbox, _ = tables.add_runtime_tables(metadata)


@pytest.fixture
async def client(redis_db: str) -> AsyncIterator[aioredis.Redis]:
    connection = aioredis.from_url(redis_db)
    yield connection
    await connection.aclose()


def _about_now(moment: datetime) -> bool:
    """SQLite gives a time back without its zone: what was written must have been UTC."""
    moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return abs(datetime.now(UTC) - moment) < timedelta(minutes=1)


@pytest.fixture
async def outbox_db(database_url: str) -> AsyncIterator[Database]:
    database = Database(database_url)
    database.create_schema(metadata)
    yield database
    database.close()


def _write(database: Database, *numbers: int) -> None:
    now = datetime.now(UTC)
    rows = [
        {"event_id": f"e-{n}", "stream": STREAM, "body": f'{{"n": {n}}}', "created_at": now}
        for n in numbers
    ]
    database.transaction(lambda conn: conn.execute(outbox.insert(), rows))


async def test_a_sent_row_is_marked_and_not_sent_again_once_its_claim_runs_out(
    client: aioredis.Redis, outbox_db: Database, in_baku: None
) -> None:
    # A claim that is over as soon as it is taken: only the mark keeps a row from going again.
    relay = Relay(
        outbox_db,
        client,
        outbox,
        60.0,
        owner="relay-1",
        signer=bus.signer("tests"),
        claim_seconds=0.0,
    )
    _write(outbox_db, 1, 2)
    assert await relay.flush() == 2
    _write(outbox_db, 3)
    assert await relay.flush() == 1
    assert await relay.flush() == 0

    assert await client.xlen(STREAM) == 3
    assert relay.published_total == 3
    marks = await outbox_db.run(
        lambda conn: list(conn.execute(sa.select(outbox.c.published_at)).scalars())
    )
    assert len(marks) == 3 and all(_about_now(mark) for mark in marks)


async def test_a_claim_held_by_another_relay_is_respected_whatever_the_local_zone(
    client: aioredis.Redis, outbox_db: Database, in_baku: None
) -> None:
    relay = Relay(outbox_db, client, outbox, 60.0, owner="relay-1", signer=bus.signer("tests"))
    held_until = datetime.now(UTC) + timedelta(minutes=1)
    _write(outbox_db, 1)
    outbox_db.transaction(
        lambda conn: conn.execute(
            outbox.update().values(claimed_by="relay-2", claimed_until=held_until)
        )
    )

    assert await relay.flush() == 0


async def _sent(client: aioredis.Redis) -> int:
    return int(await client.xlen(STREAM))


async def test_a_relay_nobody_wakes_still_sends_within_its_poll_interval(
    client: aioredis.Redis, outbox_db: Database
) -> None:
    """Rows another process wrote (a replica, `korpu recover`) wake no relay of this one."""
    relay = Relay(outbox_db, client, outbox, 0.05, owner="relay-1", signer=bus.signer("tests"))
    relay.start()
    try:
        _write(outbox_db, 1, 2, 3)
        await wait_for(lambda: _sent(client), timeout=5, message="never sent without a wake")
        assert relay.running
    finally:
        await relay.stop()


class _FailingOnce:
    """Redis whose first pipeline fails on execute, as when Redis is briefly away."""

    def __init__(self, real: aioredis.Redis) -> None:
        self.real, self.failures = real, 0

    def pipeline(self, **options: Any) -> Any:
        pipe = self.real.pipeline(**options)
        if self.failures == 0:
            self.failures += 1

            async def fail() -> None:
                raise ConnectionError("Redis is away")

            pipe.execute = fail  # type: ignore[method-assign, assignment]
        return pipe


async def test_a_relay_whose_send_failed_keeps_running_and_sends_at_a_later_round(
    client: aioredis.Redis, outbox_db: Database
) -> None:
    flaky = _FailingOnce(client)
    # Claimed for no time: the round after the failure takes the same rows again.
    relay = Relay(
        outbox_db,
        flaky,
        outbox,
        0.05,
        owner="relay-1",
        signer=bus.signer("tests"),
        claim_seconds=0.0,
    )  # type: ignore[arg-type]
    relay.start()
    try:
        _write(outbox_db, 1, 2, 3)
        relay.wake()
        await wait_for(lambda: _sent(client), timeout=5, message="never sent after a failure")
        assert flaky.failures == 1 and relay.running
    finally:
        await relay.stop()


async def test_stopping_a_relay_sends_what_was_committed_and_ends_its_loop(
    client: aioredis.Redis, outbox_db: Database
) -> None:
    relay = Relay(outbox_db, client, outbox, 60.0, owner="relay-1", signer=bus.signer("tests"))
    relay.start()
    _write(outbox_db, 1, 2, 3)  # committed, but nobody woke the relay

    await relay.stop()

    assert await client.xlen(STREAM) == 3
    assert not relay.running


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
        sweeper = Redelivery(
            self.client, self.subscription, "c1", policy, _no_retry, self.park, bus.signer("tests")
        )

        assert await sweeper.sweep() == 1

        letters: Any = await self.client.xrange(streams.dead_letters("tests"))
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
    verifier = signing.Verifier(bus.keys_dir())
    signed = {name.decode(): value for name, value in letter.items()}
    signed["dead_at"] = dead_at.isoformat()
    assert verifier.check(streams.dead_letters("tests"), signed) == "tests", "signed by its writer"
    del letter[streams.SIGNATURE_FIELD.encode()]
    assert letter.pop(streams.EVENT_SIGNATURE_FIELD.encode()) == b"", "the entry had none"
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


async def _read_all(client: aioredis.Redis, consumer: str) -> list[str]:
    read: Any = await client.xreadgroup(GROUP, consumer, {STREAM: ">"})
    return [entry_id.decode() for entry_id, _ in read[0][1]] if read else []


async def test_a_sweep_skips_entries_deleted_or_not_yet_due_and_takes_every_due_one(
    client: aioredis.Redis,
) -> None:
    await client.xgroup_create(STREAM, GROUP, id="0", mkstream=True)
    for n in range(4):
        await client.xadd(STREAM, {streams.ENTRY_FIELD: f'{{"n": {n}}}'})
    deleted, tried_often, *due = await _read_all(client, "gone")
    await client.xdel(STREAM, deleted)
    # Delivered five times already: its backoff (800 ms) is not over.
    await client.xclaim(STREAM, GROUP, "gone", 0, [tried_often], retrycount=5, justid=True)
    policy = Policy(claim_idle_ms=50, max_deliveries=10)
    retried: list[str] = []

    async def consume(_subscription: Subscription, entries: list[Entry]) -> BatchOutcome:
        retried.extend(entry_id for entry_id, _ in entries)
        return BatchOutcome()

    subscription = Subscription(name="test.mutants", stream=STREAM, group=GROUP, handler=_never)
    sweeper = Redelivery(client, subscription, "c1", policy, consume, _no_park, bus.signer("tests"))

    async def all_idle() -> bool:
        idle: Any = await client.xpending_range(STREAM, GROUP, "-", "+", 10, idle=50)
        return len(idle) == 4

    # One sweep once all four are idle for 50 ms: the two due ones are taken in it, not later.
    await wait_for(all_idle, timeout=5, message="entries never idle")
    assert await sweeper.sweep() == 2
    assert retried == due


async def _no_park(_token: str, _body: bytes) -> None:
    raise AssertionError("nothing is parked here")


async def test_consumers_gone_with_nothing_pending_are_forgotten_but_not_this_one(
    client: aioredis.Redis,
) -> None:
    await client.xgroup_create(STREAM, GROUP, id="0", mkstream=True)
    await client.xadd(STREAM, {streams.ENTRY_FIELD: "{}"})
    for name in ("c1", "gone"):
        await client.xgroup_createconsumer(STREAM, GROUP, name)
    assert await _read_all(client, "holder")
    subscription = Subscription(name="test.mutants", stream=STREAM, group=GROUP, handler=_never)
    # Nothing is due for a minute; any consumer silent for a millisecond is gone.
    policy = Policy(claim_idle_ms=60_000, forget_consumer_ms=0)
    sweeper = Redelivery(
        client, subscription, "c1", policy, _no_retry, _no_park, bus.signer("tests")
    )

    async def names() -> set[bytes]:
        consumers: Any = await client.xinfo_consumers(STREAM, GROUP)
        return {consumer["name"] for consumer in consumers}

    async def all_silent() -> bool:
        consumers: Any = await client.xinfo_consumers(STREAM, GROUP)
        return all(consumer["idle"] > 0 for consumer in consumers)

    # One sweep once every consumer has been silent for a millisecond, the holder included.
    await wait_for(all_silent, timeout=5, message="consumers never idle")
    await sweeper.sweep()
    assert await names() == {b"c1", b"holder"}


async def _end_loop(relay: Relay) -> None:
    task = relay._task
    assert task is not None
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


class _AbsorbingPipeline:
    """A send that hangs once and, like a client tidying its connection, absorbs the
    cancellation meant to end it; every later send goes through at once."""

    def __init__(self, client: _AbsorbingRedis) -> None:
        self._client = client

    def xadd(self, *_args: Any) -> None:
        return None

    async def execute(self) -> list[Any]:
        self._client.sends += 1
        if self._client.sends == 1:
            self._client.stuck.set()
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.Event().wait()
        return []


class _AbsorbingRedis:
    def __init__(self) -> None:
        self.sends = 0
        self.stuck = asyncio.Event()

    def pipeline(self, transaction: bool = True) -> _AbsorbingPipeline:
        return _AbsorbingPipeline(self)


async def test_a_relay_stops_even_when_its_client_absorbs_the_cancellation_of_a_send(
    outbox_db: Database,
) -> None:
    client = _AbsorbingRedis()
    relay = Relay(outbox_db, client, outbox, 0.01, owner="relay-1", signer=bus.signer("tests"))  # type: ignore[arg-type]
    _write(outbox_db, 1)
    relay.start()
    relay.wake()
    await client.stuck.wait()
    # The cancellation is swallowed mid-send: only the stop flag can end the loop.
    await relay.stop()
    running = relay.running
    if running:  # the loop outlived its stop: end it here, not in the next test's loop
        await _end_loop(relay)
    assert not running
