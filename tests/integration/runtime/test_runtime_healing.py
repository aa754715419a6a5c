"""What Redis forgets, the runtime puts back: groups after a wipe, readers that stopped."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

from korpu.embedded_redis import EmbeddedRedis
from korpu_contracts import referral
from korpu_runtime import http, tables
from korpu_runtime.consumer import Message, Subscription
from korpu_runtime.service import Service
from korpu_runtime.settings import ServiceSettings
from korpu_runtime.unit_of_work import UnitOfWork
from support import bus
from support.infra import wait_for

INPUT = "korpu.test.healing"
GROUP = "healing-group"

metadata = sa.MetaData()
tables.add_runtime_tables(metadata)
handled = sa.Table("handled", metadata, sa.Column("task_id", sa.String(40), nullable=False))


def _handle(uow: UnitOfWork, message: Message) -> None:
    task_id = referral.TaskCancelled.model_validate(message.envelope.data).task_id
    uow.conn.execute(handled.insert().values(task_id=task_id))


class _Settings(ServiceSettings):
    service: str = "healing-test"


@pytest.fixture
async def service(redis_db: str, database_url: str) -> AsyncIterator[Service]:
    settings = _Settings(redis_url=redis_db, database_url=database_url, heal_interval_seconds=0.2)
    subscription = Subscription(name="test.healing", stream=INPUT, group=GROUP, handler=_handle)
    running = Service(settings, metadata, [subscription])
    await running.start()
    yield running
    await running.stop()


async def _publish(service: Service, task_id: str) -> None:
    cancelled = referral.TaskCancelled(task_id=task_id, referral_id="r-1", service="shelter")
    await bus.publish(service.settings.redis_url, INPUT, cancelled, "r-1")


async def _handled(service: Service) -> set[str]:
    rows = await service.db.run(lambda conn: list(conn.execute(sa.select(handled.c.task_id))))
    return {row.task_id for row in rows}


async def _ready(service: Service) -> bool:
    return all((await service.readiness()).values())


async def test_after_redis_lost_its_data_the_group_is_back_and_entries_flow_again(
    service: Service,
) -> None:
    await _publish(service, "before-wipe")
    await wait_for(lambda: _contains(service, "before-wipe"), message="first entry not handled")

    await service.redis.flushdb()  # what a restart without persistence leaves
    await _publish(service, "after-wipe")

    await wait_for(lambda: _contains(service, "after-wipe"), message="reading did not resume")
    groups = await service.redis.xinfo_groups(INPUT)
    assert [group["name"] for group in groups] == [GROUP.encode()]
    await wait_for(lambda: _ready(service), message="readiness stayed red after healing")
    assert service.healer.healed_total >= 1


async def test_a_reader_that_stopped_is_restarted_and_readiness_tells_meanwhile(
    service: Service,
) -> None:
    await service.broker.subscribers[0].stop()
    assert (await service.readiness())[f"subscriber:{INPUT}"] is False

    await wait_for(lambda: _ready(service), message="stopped reader not restarted")
    await _publish(service, "after-restart")
    await wait_for(lambda: _contains(service, "after-restart"), message="restarted reader idle")


async def _contains(service: Service, task_id: str) -> bool:
    return task_id in await _handled(service)


async def test_while_redis_is_away_readiness_says_degraded_and_the_http_api_stays_up(
    tmp_path: Path, database_url: str
) -> None:
    private = EmbeddedRedis(tmp_path / "redis")
    private.start()
    settings = _Settings(redis_url=private.url, database_url=database_url)
    subscription = Subscription(name="test.healing", stream=INPUT, group=GROUP, handler=_handle)
    running = Service(settings, metadata, [subscription])
    app = http.build_app(running, [], title="healing test")
    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://test") as client,
    ):
        assert (await client.get("/health/ready")).json()["status"] == "ready"
        private.stop()
        answer = await client.get("/health/ready")
        assert answer.status_code == 200
        assert answer.json()["status"] == "degraded"
        assert answer.json()["checks"]["redis"] is False
        assert answer.json()["checks"]["database"] is True
