"""Helpers for the legal aid integration tests: requests as the referral service sends them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import redis.asyncio as aioredis
import sqlalchemy as sa

from korpu_contracts import referral, registry, streams
from korpu_contracts.envelope import Envelope
from korpu_contracts.providers import TaskUpdated
from korpu_contracts.vocabulary import Service, Sex
from korpu_provider import directory
from korpu_runtime.service import Service as RunningService
from legal_aid import bootstrap
from legal_aid.adapters import tables
from support import bus, infra


def case(
    task_id: str,
    *,
    region: str = "Baku",
    languages: Sequence[str] = ("az",),
    child: bool = False,
    sex: Sex = Sex.FEMALE,
) -> referral.TaskRequested:
    return referral.TaskRequested(
        task_id=task_id,
        referral_id=f"referral-{task_id}",
        service=Service.LEGAL_AID,
        region=region,
        is_child=child,
        sex=sex,
        age_years=15 if child else 30,
        languages=list(languages),
    )


def cancellation(task_id: str) -> referral.TaskCancelled:
    return referral.TaskCancelled(
        task_id=task_id, referral_id=f"referral-{task_id}", service=Service.LEGAL_AID
    )


def lawyer(name: str, regions: Sequence[str], languages: Sequence[str], cap: int) -> dict[str, Any]:
    return {
        "name": name,
        "regions": list(regions),
        "languages": list(languages),
        "max_caseload": cap,
    }


async def send(redis_url: str, *payloads: referral.TaskRequested | referral.TaskCancelled) -> None:
    for payload in payloads:
        await bus.publish(redis_url, streams.LEGAL_AID_REQUESTS, payload, payload.referral_id)


async def seed(service: RunningService, entries: list[dict[str, Any]]) -> directory.Loaded:
    return await service.db.run(lambda conn: bootstrap.SERVICE.load(conn, entries))


async def answers(redis_url: str, count: int) -> list[TaskUpdated]:
    """The answers on the updates stream once there are `count`, waiting with a deadline.

    Counted once per event id, as a reader's inbox would: the relays of two
    replicas may both send the same outbox row (at-least-once by design).
    """
    found = await bus.wait_for_events(
        redis_url,
        streams.LEGAL_AID_UPDATES,
        lambda events: len(_distinct(events)) >= count,
        message=f"expected {count} task updates",
    )
    return [registry.read(envelope, TaskUpdated) for envelope in _distinct(found)]


def _distinct(envelopes: list[Envelope]) -> list[Envelope]:
    return list({envelope.id: envelope for envelope in envelopes}.values())


async def answers_by_task(redis_url: str, count: int) -> dict[str, TaskUpdated]:
    """The latest answer per task, once `count` answers were sent."""
    return {update.task_id: update for update in await answers(redis_url, count)}


async def settled(service: RunningService, redis_url: str) -> None:
    """Wait until every request entry was handled and every answer left the outbox.

    Needed to assert that something did NOT happen (a second allocation).
    """

    async def done() -> bool:
        client = aioredis.from_url(redis_url, decode_responses=True)
        try:
            last = await client.xrevrange(streams.LEGAL_AID_REQUESTS, count=1)
            groups = await client.xinfo_groups(streams.LEGAL_AID_REQUESTS)
        finally:
            await client.aclose()
        if not last:
            return False
        group = next(g for g in groups if g["name"] == streams.GROUP_LEGAL_AID)
        consumed: bool = group["pending"] == 0 and group["last-delivered-id"] == last[0][0]
        return consumed and await service.db.run(_outbox_empty)

    await infra.wait_for(done, timeout=10, message="the service did not finish its entries")


def _outbox_empty(conn: sa.Connection) -> bool:
    unpublished = sa.select(sa.func.count()).where(tables.schema.outbox.c.published_at.is_(None))
    return conn.execute(unpublished).scalar_one() == 0
