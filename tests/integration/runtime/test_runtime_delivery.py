"""The runtime under every service: plain entries, groups, inbox, acks, readiness."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import pytest
import sqlalchemy as sa

from korpu_contracts import referral, registry, streams
from korpu_runtime import signing, tables
from korpu_runtime.consumer import Message, Subscription
from korpu_runtime.service import Service
from korpu_runtime.settings import ServiceSettings
from korpu_runtime.unit_of_work import UnitOfWork
from support import bus
from support.infra import wait_for

INPUT = "korpu.test.input"
OUTPUT = "korpu.test.output"

metadata = sa.MetaData()
tables.add_runtime_tables(metadata)
handled = sa.Table("handled", metadata, sa.Column("task_id", sa.String(40), nullable=False))


def _handle(uow: UnitOfWork, message: Message) -> None:
    cancelled = registry.read(message.envelope, referral.TaskCancelled)
    if cancelled.task_id.startswith("poison"):
        raise RuntimeError("this entry always fails")
    uow.conn.execute(handled.insert().values(task_id=cancelled.task_id))
    uow.publish(OUTPUT, message.envelope.caused(cancelled, source="korpu/test"))


class _Settings(ServiceSettings):
    service: str = "runtime-test"


@pytest.fixture
async def service(redis_db: str, database_url: str) -> AsyncIterator[Service]:
    settings = _Settings(redis_url=redis_db, database_url=database_url, consumer_name="c1")
    subscription = Subscription(
        name="test", stream=INPUT, group="test-group", handler=_handle, producers=bus.TESTS
    )
    running = Service(settings, metadata, [subscription])
    yield running
    if running.started:
        await running.stop()


def _cancel(task_id: str) -> referral.TaskCancelled:
    return referral.TaskCancelled(task_id=task_id, referral_id="r-1", service="shelter")


async def _handled(service: Service) -> list[str]:
    rows = await service.db.run(lambda conn: list(conn.execute(sa.select(handled.c.task_id))))
    return [row.task_id for row in rows]


async def test_entries_written_before_the_first_start_are_delivered(service: Service) -> None:
    await bus.publish(service.settings.redis_url, INPUT, _cancel("early"), "r-1")
    await service.start()
    await wait_for(lambda: _handled(service), message="entry written before start was skipped")
    assert await _handled(service) == ["early"]


async def test_events_leave_as_plain_json_any_redis_client_can_read(service: Service) -> None:
    await service.start()
    sent = await bus.publish(service.settings.redis_url, INPUT, _cancel("t-1"), "r-1")
    await bus.wait_for_events(service.settings.redis_url, OUTPUT, lambda found: len(found) == 1)
    [(_, fields)] = await service.redis.xrange(OUTPUT)
    assert sorted(fields) == [streams.ENTRY_FIELD.encode(), streams.SIGNATURE_FIELD.encode()]
    text = {name.decode(): value for name, value in fields.items()}
    assert signing.Verifier(bus.keys_dir()).check(OUTPUT, text) == "runtime-test"
    document = json.loads(fields[streams.ENTRY_FIELD.encode()])
    assert document["type"] == referral.TaskCancelled.TYPE
    assert document["causationid"] == sent.id
    assert document["subject"] == "r-1" and document["data"]["task_id"] == "t-1"


async def test_a_redelivered_event_is_handled_once(service: Service) -> None:
    await service.start()
    envelope = await bus.publish(service.settings.redis_url, INPUT, _cancel("once"), "r-1")
    await service.redis.xadd(INPUT, bus.entry(INPUT, envelope))  # type: ignore[arg-type]
    await bus.publish(service.settings.redis_url, INPUT, _cancel("after"), "r-1")
    await wait_for(lambda: _contains(service, "after"), message="entries not consumed")
    assert sorted(await _handled(service)) == ["after", "once"]
    # Handled rows are committed before the relay sends what they wrote: send it now.
    await service.relay.flush()
    assert len(await service.redis.xrange(OUTPUT)) == 2


async def _contains(service: Service, task_id: str) -> bool:
    return task_id in await _handled(service)


async def test_a_failing_entry_stays_pending_and_does_not_hold_back_the_others(
    service: Service,
) -> None:
    await service.start()
    await bus.publish(service.settings.redis_url, INPUT, _cancel("before"), "r-1")
    await bus.publish(service.settings.redis_url, INPUT, _cancel("poison-1"), "r-1")
    await bus.publish(service.settings.redis_url, INPUT, _cancel("behind"), "r-1")
    await wait_for(lambda: _contains(service, "behind"), message="entry behind the poison held")
    assert sorted(await _handled(service)) == ["before", "behind"]
    pending = await service.redis.xpending(INPUT, "test-group")
    assert pending["pending"] == 1


async def test_readiness_is_red_until_started_and_when_a_subscriber_stops(
    service: Service,
) -> None:
    assert not all((await service.readiness()).values())
    await service.start()
    assert all((await service.readiness()).values())
    await service.broker.subscribers[0].stop()
    checks = await service.readiness()
    assert checks[f"subscriber:{INPUT}"] is False
