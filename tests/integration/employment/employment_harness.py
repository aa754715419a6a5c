"""A running employment service on a real Redis and database, driven as the referral service."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import redis.asyncio as aioredis
import sqlalchemy as sa

from employment import bootstrap
from employment.adapters import tables
from korpu_contracts import referral, registry, streams
from korpu_contracts.envelope import Envelope
from korpu_contracts.providers import TaskUpdated
from korpu_contracts.vocabulary import Service as ServiceName
from korpu_provider import directory
from korpu_runtime.service import Service
from support import bus, infra


def program(
    name: str,
    *,
    region: str = "Baku",
    seats: int = 1,
    languages: Sequence[str] = ("az",),
    min_age: int = 16,
) -> dict[str, Any]:
    """One entry of a seed file's `programs` list."""
    return {
        "name": name,
        "region": region,
        "seats": seats,
        "languages": list(languages),
        "min_age": min_age,
    }


def task_request(
    task_id: str,
    *,
    age: int | None = 25,
    child: bool = False,
    languages: Sequence[str] = ("az",),
    region: str = "Baku",
) -> referral.TaskRequested:
    return referral.TaskRequested(
        task_id=task_id,
        referral_id=referral_of(task_id),
        service=ServiceName.EMPLOYMENT,
        region=region,
        is_child=child,
        sex="female",
        age_years=age,
        languages=list(languages),
    )


def referral_of(task_id: str) -> str:
    return f"referral-of-{task_id}"


def settings(
    redis_url: str, database_url: str, consumer_name: str = "t1", **extra: Any
) -> bootstrap.Settings:
    # A short poll: the seed's promotions are sent by it (see `Employment.seed`).
    return bootstrap.Settings(
        redis_url=redis_url,
        database_url=database_url,
        consumer_name=consumer_name,
        relay_poll_seconds=0.2,
        **extra,
    )


class Employment:
    """One replica of the service, plus what a test needs to talk to it."""

    def __init__(self, settings: bootstrap.Settings, service: Service | None = None) -> None:
        self.redis_url = settings.redis_url
        self.settings = settings
        self.service = service or bootstrap.build_service(settings)

    async def start(self) -> None:
        await self.service.start()

    async def stop(self) -> None:
        await self.service.stop()

    async def seed(self, programs: list[dict[str, Any]]) -> directory.Loaded:
        # The relay is not woken: `korpu seed` runs in another process and cannot wake
        # it either, so promotions from a seed are sent by its poll.
        return await self.service.db.run(lambda conn: bootstrap.SERVICE.load(conn, programs))

    async def ask(self, task_id: str, **attributes: Any) -> Envelope:
        request = task_request(task_id, **attributes)
        return await bus.publish(
            self.redis_url, streams.EMPLOYMENT_REQUESTS, request, referral_of(task_id)
        )

    async def cancel(self, task_id: str) -> Envelope:
        cancelled = referral.TaskCancelled(
            task_id=task_id, referral_id=referral_of(task_id), service=ServiceName.EMPLOYMENT
        )
        return await bus.publish(
            self.redis_url, streams.EMPLOYMENT_REQUESTS, cancelled, referral_of(task_id)
        )

    async def deliver(self, envelope: Envelope) -> None:
        """XADD an envelope as it is, e.g. a second time, as an at-least-once relay may."""
        client = aioredis.from_url(self.redis_url)
        try:
            entry = bus.entry(streams.EMPLOYMENT_REQUESTS, envelope)
            await client.xadd(streams.EMPLOYMENT_REQUESTS, entry)  # type: ignore[arg-type]
        finally:
            await client.aclose()

    async def updates(self, task_id: str | None = None) -> list[tuple[Envelope, TaskUpdated]]:
        found = await bus.read_events(self.redis_url, streams.EMPLOYMENT_UPDATES, TaskUpdated.TYPE)
        pairs = [(envelope, registry.read(envelope, TaskUpdated)) for envelope in found]
        return [pair for pair in pairs if task_id is None or pair[1].task_id == task_id]

    async def answers(self, *task_ids: str) -> dict[str, TaskUpdated]:
        """The latest update of each task, once every one of them has at least one."""
        await bus.wait_for_events(
            self.redis_url,
            streams.EMPLOYMENT_UPDATES,
            lambda events: set(task_ids) <= {e.data["task_id"] for e in events},
            message=f"no update for each of {task_ids}",
        )
        latest = {update.task_id: update for _, update in await self.updates()}
        return {task_id: latest[task_id] for task_id in task_ids}

    async def becomes(self, task_id: str, status: str) -> TaskUpdated:
        """Wait for an update putting the task in `status`; returns that update."""
        await bus.wait_for_events(
            self.redis_url,
            streams.EMPLOYMENT_UPDATES,
            lambda events: any(
                (e.data["task_id"], e.data["status"]) == (task_id, status) for e in events
            ),
            message=f"{task_id} never became {status}",
        )
        return [u for _, u in await self.updates(task_id) if u.status == status][-1]

    async def settled(self) -> None:
        """Wait until every request entry is handled and acknowledged, and its answers sent."""
        await infra.wait_for(self._settled, message="the service did not settle")

    async def _settled(self) -> bool:
        client = aioredis.from_url(self.redis_url)
        try:
            last = await client.xrevrange(streams.EMPLOYMENT_REQUESTS, count=1)
            groups = await client.xinfo_groups(streams.EMPLOYMENT_REQUESTS)
        finally:
            await client.aclose()
        group = next(g for g in groups if g["name"].decode() == streams.GROUP_EMPLOYMENT)
        drained = group["pending"] == 0 and (not last or group["last-delivered-id"] == last[0][0])
        return drained and await self.service.db.run(_outbox_sent)

    async def pending(self) -> int:
        """How many request entries were delivered but not acknowledged."""
        client = aioredis.from_url(self.redis_url)
        try:
            summary = await client.xpending(streams.EMPLOYMENT_REQUESTS, streams.GROUP_EMPLOYMENT)
        finally:
            await client.aclose()
        return int(summary["pending"])

    async def dead_letters(self) -> list[dict[bytes, bytes]]:
        """The employment service's dead letters, oldest first."""
        client = aioredis.from_url(self.redis_url)
        try:
            letters = await client.xrange(streams.dead_letters("employment"))
        finally:
            await client.aclose()
        return [fields for _, fields in letters]

    async def programs(self) -> dict[str, dict[str, Any]]:
        return {
            p["name"]: p
            for p in await self.service.db.run(bootstrap.SERVICE.provider.directory_view)
        }


def _outbox_sent(conn: sa.Connection) -> bool:
    unsent = sa.select(sa.func.count()).where(tables.schema.outbox.c.published_at.is_(None))
    return conn.execute(unsent).scalar_one() == 0
