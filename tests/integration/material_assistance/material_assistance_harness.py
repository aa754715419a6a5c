"""A running material assistance service: its bus as the referral service sees it, and its
case workers' API."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from korpu_contracts import referral, registry, streams
from korpu_contracts.envelope import Envelope
from korpu_contracts.providers import TaskUpdated
from korpu_contracts.vocabulary import Service
from korpu_provider import directory
from korpu_runtime.service import Service as RunningService
from material_assistance import bootstrap
from support import bus

REQUESTS = streams.requests(Service.MATERIAL_ASSISTANCE)
UPDATES = streams.updates(Service.MATERIAL_ASSISTANCE)


def fund(
    name: str = "Baku fund",
    *,
    region: str = "Baku",
    budget: str = "1400.00",
    amount: str = "700.00",
    currency: str = "AZN",
) -> dict[str, Any]:
    """One entry of a seed file's `funds` list; by default two allowances of 700.00 AZN."""
    return {
        "name": name,
        "region": region,
        "budget": budget,
        "amount_per_person": amount,
        "currency": currency,
    }


@dataclass
class Assistance:
    redis_url: str
    service: RunningService
    client: httpx.AsyncClient

    async def seed(self, *funds: dict[str, Any]) -> directory.Loaded:
        return await self.service.db.run(lambda conn: bootstrap.SERVICE.load(conn, list(funds)))

    async def ask(self, *task_ids: str, region: str = "Baku", child: bool = False) -> None:
        for task_id in task_ids:
            requested = referral.TaskRequested(
                task_id=task_id,
                referral_id=f"referral-{task_id}",
                service=Service.MATERIAL_ASSISTANCE,
                region=region,
                is_child=child,
                sex="female",
                age_years=15 if child else 30,
                languages=["az"],
            )
            await bus.publish(self.redis_url, REQUESTS, requested, requested.referral_id)

    async def cancel(self, task_id: str) -> Envelope:
        cancelled = referral.TaskCancelled(
            task_id=task_id,
            referral_id=f"referral-{task_id}",
            service=Service.MATERIAL_ASSISTANCE,
        )
        return await bus.publish(self.redis_url, REQUESTS, cancelled, cancelled.referral_id)

    async def told(self, task_id: str, status: str, **detail: Any) -> tuple[Envelope, TaskUpdated]:
        """Wait for an answer putting the task in `status` with (at least) `detail`."""

        def this(envelope: Envelope) -> bool:
            data = envelope.data
            said = data.get("detail") or {}
            wanted = (data["task_id"], data["status"]) == (task_id, status)
            return wanted and all(said.get(k) == v for k, v in detail.items())

        found = await bus.wait_for_events(
            self.redis_url,
            UPDATES,
            lambda events: any(this(e) for e in events),
            message=f"{task_id} was never told {status} {detail}",
        )
        envelope = [e for e in found if this(e)][-1]
        return envelope, registry.read(envelope, TaskUpdated)

    async def latest(self) -> dict[str, TaskUpdated]:
        """Each task's newest answer so far, by revision."""
        found = await bus.read_events(self.redis_url, UPDATES, TaskUpdated.TYPE)
        newest: dict[str, TaskUpdated] = {}
        for update in (registry.read(e, TaskUpdated) for e in found):
            if update.revision > getattr(newest.get(update.task_id), "revision", 0):
                newest[update.task_id] = update
        return newest

    async def funds(self) -> dict[str, dict[str, Any]]:
        """The case workers' view of the funds (`GET /v1/funds`), by name."""
        response = await self.client.get("/v1/funds")
        assert response.status_code == 200, response.text
        return {view["name"]: view for view in response.json()}

    async def statuses(self, *task_ids: str) -> list[str]:
        latest = await self.latest()
        return [latest[t].status for t in task_ids]
