"""Nothing stays pending: failed entries are retried, dead consumers' entries taken over,
and an entry that keeps failing is dead-lettered with its error, never blocking the rest."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
import sqlalchemy as sa

from korpu_contracts import referral, registry, streams
from korpu_contracts.envelope import Envelope, source_of
from korpu_runtime import tables
from korpu_runtime.consumer import Message, Subscription
from korpu_runtime.service import Service
from korpu_runtime.settings import ServiceSettings
from korpu_runtime.unit_of_work import UnitOfWork
from support import bus
from support.infra import wait_for

# A real stream and its reader's name: `korpu dlq replay` sends back only the
# letters written by the service that reads the stream they name.
INPUT = streams.SHELTER_REQUESTS
GROUP = "test-redelivery"
metadata = sa.MetaData()
tables.add_runtime_tables(metadata)
handled = sa.Table("handled", metadata, sa.Column("task_id", sa.String(40), nullable=False))

# How many times each task id reached the handler (across replicas: same process).
calls: dict[str, int] = {}
calls_lock = threading.Lock()
# "fixable" tasks fail while listed here: the bug an operator fixes before a replay.
still_broken: set[str] = set()
# "slow" tasks are handled once the test has seen their lease renewed long enough.
slow_may_finish = threading.Event()


def _handle(uow: UnitOfWork, message: Message) -> None:
    task_id = registry.read(message.envelope, referral.TaskCancelled).task_id
    with calls_lock:
        calls[task_id] = calls.get(task_id, 0) + 1
        attempt = calls[task_id]
    broken = task_id.startswith("fixable") and task_id in still_broken
    if broken or task_id.startswith("poison") or (task_id.startswith("flaky") and attempt < 3):
        # Errors never name a person (the rule every handler keeps), so the parked test's
        # stand-in for a name stays out of the message. A connection failure, whose text
        # the runtime tells (errors.describe), as a database or a network would fail.
        named = "a person's entry" if "Markerova" in task_id else task_id
        raise ConnectionError(f"attempt {attempt} of {named} fails")
    if task_id.startswith("slow") and not slow_may_finish.wait(timeout=30):
        raise RuntimeError("the test never let the slow handler finish")
    uow.conn.execute(handled.insert().values(task_id=task_id))


class _Settings(ServiceSettings):
    service: str = "shelter"


ServiceFactory = Callable[..., Service]


@pytest.fixture
async def make_service(redis_db: str, database_url: str) -> AsyncIterator[ServiceFactory]:
    calls.clear()
    slow_may_finish.clear()
    started: list[Service] = []

    def make(consumer: str, *, personal_data: bool = False) -> Service:
        settings = _Settings(
            redis_url=redis_db,
            database_url=database_url,
            consumer_name=consumer,
            claim_idle_ms=200,
            max_deliveries=3,
            backoff_cap_ms=400,
        )
        subscription = Subscription(
            name="test.redelivery",
            stream=INPUT,
            group=GROUP,
            handler=_handle,
            personal_data=personal_data,
        )
        service = Service(settings, metadata, [subscription])
        started.append(service)
        return service

    yield make
    slow_may_finish.set()  # a slow handler left waiting by a failed test must not hold the stop
    for service in started:
        if service.started:
            await service.stop()


async def _publish(service: Service, task_id: str) -> None:
    cancelled = referral.TaskCancelled(task_id=task_id, referral_id="r-1", service="shelter")
    await bus.publish(service.settings.redis_url, INPUT, cancelled, "r-1")


async def _handled(service: Service) -> list[str]:
    rows = await service.db.run(lambda conn: list(conn.execute(sa.select(handled.c.task_id))))
    return sorted(row.task_id for row in rows)


async def _nothing_pending(service: Service) -> bool:
    summary: dict[str, Any] = await service.redis.xpending(INPUT, GROUP)
    return summary["pending"] == 0


async def test_a_failing_entry_is_retried_until_it_succeeds(make_service: ServiceFactory) -> None:
    service = make_service("c1")
    await service.start()
    await _publish(service, "flaky-1")
    await wait_for(lambda: _handled(service), timeout=10, message="flaky entry never succeeded")
    assert calls["flaky-1"] == 3
    await wait_for(lambda: _nothing_pending(service), message="the retried entry stayed pending")
    assert await service.redis.xlen(streams.dead_letters("shelter")) == 0


async def test_a_poison_entry_is_dead_lettered_with_its_error_and_blocks_nothing(
    make_service: ServiceFactory,
) -> None:
    service = make_service("c1")
    await service.start()
    await _publish(service, "poison-1")
    await _publish(service, "behind")

    async def dead() -> list[Any]:
        return list(await service.redis.xrange(streams.dead_letters("shelter")))

    [(letter_id, letter)] = await wait_for(dead, timeout=10, message="never dead-lettered")
    assert await _handled(service) == ["behind"]
    assert letter[b"origin_stream"] == INPUT.encode()
    assert letter[b"group"] == GROUP.encode() and letter[b"handler"] == b"test.redelivery"
    assert letter[b"deliveries"] == b"3" and calls["poison-1"] == 3
    assert b"ConnectionError: attempt 3 of poison-1 fails" in letter[b"error"]
    assert b'"task_id":"poison-1"' in letter[streams.ENTRY_FIELD.encode()]
    await wait_for(lambda: _nothing_pending(service), message="poison entry left pending")

    # A replay that dies again says so: its new dead letter names the first one.
    await service.redis.xadd(
        INPUT,
        {
            streams.ENTRY_FIELD: letter[streams.ENTRY_FIELD.encode()],
            streams.SIGNATURE_FIELD: letter[streams.EVENT_SIGNATURE_FIELD.encode()],
            streams.REPLAY_FIELD: letter_id,
        },
    )

    async def dead_again() -> list[Any]:
        letters = await service.redis.xrange(streams.dead_letters("shelter"))
        return [fields for _, fields in letters if streams.REPLAY_FIELD.encode() in fields]

    [again] = await wait_for(dead_again, timeout=10, message="the replay was not dead-lettered")
    assert again[streams.REPLAY_FIELD.encode()] == letter_id


async def test_an_unreadable_entry_is_dead_lettered_at_its_first_failure(
    make_service: ServiceFactory,
) -> None:
    # Nothing a retry could change: not an envelope, a type this build does not read,
    # a payload failing its schema. Each goes to the dead letters at once, with why.
    service = make_service("c1")
    await service.start()
    good = referral.TaskCancelled(task_id="unread", referral_id="r-1", service="shelter")
    envelope = json.loads(
        Envelope.wrap(good, source=source_of("referral"), subject="r-1").to_json()
    )
    unknown_type = {**envelope, "type": "korpu.task.teleported"}
    no_task = {**envelope, "data": {"referral_id": "r-1", "service": "shelter"}}
    unreadable = [b"not an envelope", json.dumps(unknown_type), json.dumps(no_task)]
    for body in unreadable:
        await service.redis.xadd(INPUT, bus.entry(INPUT, body))  # type: ignore[arg-type]
    await _publish(service, "behind")

    async def dead() -> list[Any]:
        letters = await service.redis.xrange(streams.dead_letters("shelter"))
        return letters if len(letters) == len(unreadable) else []

    letters = [fields for _, fields in await wait_for(dead, timeout=5, message="not set aside")]
    assert [letter[b"deliveries"] for letter in letters] == [b"1"] * len(unreadable)
    errors = [letter[b"error"].decode() for letter in letters]
    assert all(error.startswith("unreadable: ") for error in errors), errors
    assert "ValidationError" in errors[0] and "task_id" in errors[2]
    assert "UnknownEventType" in errors[1] and "<unknown type, 21 characters>" in errors[1]
    assert calls == {"behind": 1} and await _handled(service) == ["behind"]
    await wait_for(lambda: _nothing_pending(service), message="an unreadable entry left pending")


async def test_entries_of_a_dead_consumer_are_taken_over(make_service: ServiceFactory) -> None:
    service = make_service("survivor")
    await service.provision_groups()
    await _publish(service, "orphan")
    # A consumer reads the entry and dies before acknowledging it.
    await service.redis.xreadgroup(GROUP, "dead-consumer", {INPUT: ">"}, count=10)
    await service.start()
    await wait_for(lambda: _handled(service), timeout=10, message="orphaned entry never taken")
    assert await _handled(service) == ["orphan"]
    await wait_for(lambda: _nothing_pending(service), message="orphaned entry left pending")


# The slow handler works through this many renewals of its lease: five times the
# claim idle time (one every third of it), each a chance for the other replica to take it.
RENEWALS = 15


async def _watch_lease(service: Service, renewals: int) -> None:
    """Until the one pending entry's lease was renewed `renewals` times, with its first reader.

    A renewal shows as its idle time going back; a replica taking the entry over
    would show as another reader or a second delivery, and fails at once.
    """
    seen: list[dict[str, Any]] = []

    async def renewed() -> bool:
        pending = await service.redis.xpending_range(INPUT, GROUP, min="-", max="+", count=1)
        if not pending:
            return False  # not read yet
        [entry] = pending
        if seen:
            assert (entry["consumer"], entry["times_delivered"]) == (seen[0]["consumer"], 1), (
                f"taken from under its handler: {entry}"
            )
        if not seen or entry["time_since_delivered"] < seen[-1]["time_since_delivered"]:
            seen.append(entry)
        else:
            seen[-1] = entry
        return len(seen) > renewals

    await wait_for(renewed, timeout=10, message=f"fewer than {renewals} renewals of the lease")


async def test_a_slow_handler_keeps_its_entry_and_runs_once(make_service: ServiceFactory) -> None:
    first, second = make_service("replica-1"), make_service("replica-2")
    await first.start()
    await second.start()
    await _publish(first, "slow-1")
    await _watch_lease(first, RENEWALS)
    slow_may_finish.set()
    await wait_for(lambda: _handled(first), timeout=10, message="slow entry never done")
    assert calls["slow-1"] == 1
    await wait_for(lambda: _nothing_pending(first), message="slow entry left pending")


async def test_a_dead_letter_replayed_after_the_fix_is_processed(
    make_service: ServiceFactory,
) -> None:
    service = make_service("c1")
    await service.start()
    still_broken.add("fixable-1")
    await _publish(service, "fixable-1")

    async def dead() -> list[Any]:
        return list(await service.redis.xrange(streams.dead_letters("shelter")))

    [(letter_id, _)] = await wait_for(dead, timeout=10, message="never dead-lettered")
    listed = _korpu(service, "dlq", "list", "--json")
    assert [letter["id"] for letter in json.loads(listed.stdout)] == [letter_id.decode()]

    still_broken.discard("fixable-1")  # the fix is deployed
    replayed = _korpu(service, "dlq", "replay", letter_id.decode())
    assert replayed.returncode == 0, replayed.stderr
    await wait_for(lambda: _handled(service), timeout=10, message="the replay was not processed")
    assert await _handled(service) == ["fixable-1"]
    assert json.loads(_korpu(service, "dlq", "list", "--json").stdout) == []
    await wait_for(lambda: _nothing_pending(service), message="the replay stayed pending")


async def test_an_entry_with_personal_data_is_parked_in_the_database_never_in_the_dead_letters(
    make_service: ServiceFactory,
) -> None:
    service = make_service("c1", personal_data=True)
    await service.start()
    still_broken.add("fixable-Markerova")  # the task id stands for a person's name here
    await _publish(service, "fixable-Markerova")

    async def dead() -> list[Any]:
        return list(await service.redis.xrange(streams.dead_letters("shelter")))

    [(letter_id, letter)] = await wait_for(dead, timeout=10, message="never dead-lettered")
    assert letter[streams.ENTRY_FIELD.encode()] == b""
    assert letter[streams.PARKED_FIELD.encode()].startswith(INPUT.encode())
    assert not await _anywhere_in_redis(service, b"Markerova")
    shown = _korpu(service, "dlq", "show", letter_id.decode())
    assert "Markerova" not in shown.stdout and "personal data" in shown.stdout

    still_broken.discard("fixable-Markerova")
    assert _korpu(service, "dlq", "replay", letter_id.decode()).returncode == 0
    await wait_for(lambda: _handled(service), timeout=10, message="the parked entry was lost")
    assert await _handled(service) == ["fixable-Markerova"]
    parked = metadata.tables["parked_entries"]
    left = await service.db.run(lambda conn: conn.execute(sa.select(parked.c.token)).all())
    assert left == []  # taken back with the successful replay


async def _anywhere_in_redis(service: Service, needle: bytes) -> bool:
    async for key in service.redis.scan_iter():
        kind = await service.redis.type(key)
        if kind == b"stream":
            values = [v for _, f in await service.redis.xrange(key) for v in f.values()]
        elif kind == b"hash":
            values = list((await service.redis.hgetall(key)).values())
        else:
            values = [repr(await service.redis.dump(key)).encode()]
        if any(needle in value for value in values):
            return True
    return False


def _korpu(service: Service, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "REDIS_URL": service.settings.redis_url}
    return subprocess.run(
        [sys.executable, "-m", "korpu", *args],
        capture_output=True,
        text=True,
        env=env,
        stdin=subprocess.DEVNULL,
        timeout=60,
        check=False,
    )
