"""The shelter service under test, driven and watched through its streams as in production."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import redis.asyncio as aioredis
import sqlalchemy as sa

from korpu_contracts import providers, referral, registry, streams
from korpu_contracts.envelope import Envelope
from korpu_provider import directory
from korpu_runtime.service import Service
from shelter import bootstrap
from shelter.adapters import tables
from support import bus, infra


@dataclass
class Shelter:
    """The service under test, seen as the referral service sees it: through its streams."""

    redis_url: str
    settings: bootstrap.Settings
    service: Service

    async def seed(self, *entries: dict[str, Any]) -> directory.Loaded:
        return await self.service.db.run(lambda conn: bootstrap.SERVICE.load(conn, list(entries)))

    async def request(
        self,
        task_id: str,
        *,
        region: str = "Baku",
        is_child: bool = False,
        sex: str = "female",
        age: int | None = 30,
        accompanying_children: int = 0,
    ) -> Envelope:
        requested = referral.TaskRequested(
            task_id=task_id,
            referral_id=f"referral-{task_id}",
            service="shelter",
            region=region,
            is_child=is_child,
            sex=sex,
            age_years=age,
            accompanying_children=accompanying_children,
        )
        return await bus.publish(
            self.redis_url, streams.SHELTER_REQUESTS, requested, subject=requested.referral_id
        )

    async def cancel(self, task_id: str) -> Envelope:
        cancelled = referral.TaskCancelled(
            task_id=task_id, referral_id=f"referral-{task_id}", service="shelter"
        )
        return await bus.publish(
            self.redis_url, streams.SHELTER_REQUESTS, cancelled, subject=cancelled.referral_id
        )

    async def answers(
        self, count: int, predicate: Callable[[list[providers.TaskUpdated]], bool] | None = None
    ) -> list[providers.TaskUpdated]:
        """Wait for at least `count` answers (and `predicate`), then every answer sent so far."""

        def enough(found: list[Envelope]) -> bool:
            updates = _updates(found)
            return len(updates) >= count and (predicate is None or predicate(updates))

        found = await bus.wait_for_events(
            self.redis_url, streams.SHELTER_UPDATES, enough, message=f"{count} answers expected"
        )
        return _updates(found)

    async def settled(self) -> list[providers.TaskUpdated]:
        """Every answer, once each request was handled and each answer sent: no more will come."""
        await infra.wait_for(self._idle, message="the shelter service did not settle")
        return _updates(await bus.read_events(self.redis_url, streams.SHELTER_UPDATES))

    async def envelopes(self) -> list[Envelope]:
        return await bus.read_events(
            self.redis_url, streams.SHELTER_UPDATES, providers.TaskUpdated.TYPE
        )

    async def facilities(self) -> list[dict[str, Any]]:
        return await self.service.db.run(bootstrap.SERVICE.provider.directory_view)

    async def _idle(self) -> bool:
        client = aioredis.from_url(self.redis_url)
        try:
            groups = await client.xinfo_groups(streams.SHELTER_REQUESTS)
        finally:
            await client.aclose()
        group = next(g for g in groups if g["name"].decode() == streams.GROUP_SHELTER)
        if group["lag"] != 0 or group["pending"] != 0:
            return False
        unsent = sa.select(sa.func.count()).where(tables.schema.outbox.c.published_at.is_(None))
        return await self.service.db.run(lambda conn: conn.execute(unsent).scalar_one()) == 0


def _updates(found: list[Envelope]) -> list[providers.TaskUpdated]:
    """The answers as a reader sees them: a repeated event id is one event (at-least-once)."""
    unique = {e.id: e for e in found if e.type == providers.TaskUpdated.TYPE}
    return [registry.read(envelope, providers.TaskUpdated) for envelope in unique.values()]


async def started(
    redis_url: str, database_url: str, consumer: str = "t1", **overrides: Any
) -> Shelter:
    settings = bootstrap.Settings(
        redis_url=redis_url,
        database_url=database_url,
        consumer_name=consumer,
        # Seeding writes promotions to the outbox outside a service transaction,
        # which only the relay's poll picks up: keep that short in tests.
        relay_poll_seconds=0.1,
        **overrides,
    )
    service = bootstrap.build_service(settings)
    await service.start()
    return Shelter(redis_url, settings, service)
