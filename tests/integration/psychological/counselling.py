"""Counsellors and requests for help as the seed file and the referral service write them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from korpu_contracts import referral, registry, streams
from korpu_contracts.providers import TaskUpdated
from korpu_contracts.vocabulary import Service
from korpu_provider import directory
from korpu_runtime.service import Service as Running
from psychological import bootstrap
from support import bus

REQUESTS, UPDATES = streams.requests(Service.PSYCHOLOGICAL), streams.updates(Service.PSYCHOLOGICAL)


def counsellor(
    name: str, *, works_in: Sequence[str] = ("Baku",), speaks: Sequence[str] = ("az",), **more: Any
) -> dict[str, Any]:
    """One entry of a seed file's `counsellors` list; `more` is `max_caseload` or `children`."""
    return {"name": name, "regions": list(works_in), "languages": list(speaks), **more}


def asking(
    task_id: str, *, region: str = "Baku", speaks: Sequence[str] = ("az",), child: bool = False
) -> referral.TaskRequested:
    person = {"is_child": child, "sex": "female", "age_years": 14 if child else 32}
    return referral.TaskRequested(
        service=Service.PSYCHOLOGICAL,
        task_id=task_id,
        referral_id=f"referral-{task_id}",
        region=region,
        languages=list(speaks),
        **person,
    )


async def send(redis_url: str, *payloads: referral.TaskRequested) -> None:
    for payload in payloads:
        await bus.publish(redis_url, REQUESTS, payload, payload.referral_id)


async def load(service: Running, entries: list[dict[str, Any]]) -> directory.Loaded:
    return await service.db.run(lambda conn: bootstrap.SERVICE.load(conn, entries))


async def newest(redis_url: str, count: int) -> dict[str, TaskUpdated]:
    """Each task's newest answer once `count` distinct answers were sent (a relay may send
    one twice), by revision as the referral service keeps them."""
    found = await bus.wait_for_events(
        redis_url,
        UPDATES,
        lambda events: len({e.id for e in events}) >= count,
        message=f"expected {count} answers",
    )
    by_task: dict[str, TaskUpdated] = {}
    for update in (registry.read(envelope, TaskUpdated) for envelope in found):
        if update.revision >= getattr(by_task.get(update.task_id), "revision", 0):
            by_task[update.task_id] = update
    return by_task
