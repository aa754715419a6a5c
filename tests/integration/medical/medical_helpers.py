"""Helpers for the medical integration tests: requests as the referral service sends them."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from korpu_contracts import referral, registry, streams
from korpu_contracts.providers import TaskUpdated
from korpu_contracts.vocabulary import Service, Sex
from support import bus

TODAY = dt.date(2027, 3, 1)
UPDATES = streams.updates(Service.MEDICAL)


@dataclass
class Clock:
    """The service's today, moved by the test."""

    today: dt.date = TODAY

    def __call__(self) -> dt.date:
        return self.today


def day(n: int) -> str:
    """The n-th day after TODAY as an answer tells it: 1 is tomorrow, the first open day."""
    return (TODAY + dt.timedelta(days=n)).isoformat()


def person(
    task_id: str, *, region: str = "Baku", sex: Sex = Sex.FEMALE, child: bool = False
) -> referral.TaskRequested:
    return referral.TaskRequested(
        task_id=task_id,
        referral_id=f"referral-{task_id}",
        service=Service.MEDICAL,
        region=region,
        is_child=child,
        sex=sex,
        age_years=15 if child else 30,
        languages=["az"],
    )


def cancellation(task_id: str) -> referral.TaskCancelled:
    return referral.TaskCancelled(
        task_id=task_id, referral_id=f"referral-{task_id}", service=Service.MEDICAL
    )


def clinic(
    name: str,
    per_day: int,
    *,
    region: str = "Baku",
    serves: tuple[str, ...] = ("women",),
    **more: Any,
) -> dict[str, Any]:
    return {
        "name": name,
        "region": region,
        "serves": list(serves),
        "appointments_per_day": per_day,
        **more,
    }


async def send(redis_url: str, *payloads: referral.TaskRequested | referral.TaskCancelled) -> None:
    requests = streams.requests(Service.MEDICAL)
    for payload in payloads:
        await bus.publish(redis_url, requests, payload, payload.referral_id)


async def latest(redis_url: str, count: int) -> dict[str, TaskUpdated]:
    """Each task's newest answer (by revision) once `count` distinct answers were sent."""
    found = await bus.wait_for_events(
        redis_url,
        UPDATES,
        lambda events: len({event.id for event in events}) >= count,
        message=f"expected {count} answers",
    )
    newest: dict[str, TaskUpdated] = {}
    for envelope in {event.id: event for event in found}.values():
        update = registry.read(envelope, TaskUpdated)
        known = newest.get(update.task_id)
        if known is None or update.revision > known.revision:
            newest[update.task_id] = update
    return newest
