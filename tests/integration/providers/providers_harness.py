"""Any provider service under test, driven and watched through its streams as in production."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import httpx
import redis.asyncio as aioredis
import sqlalchemy as sa

from korpu import catalog
from korpu_contracts import providers, referral, registry, streams
from korpu_contracts.envelope import Envelope, source_of
from korpu_provider import http as provider_http
from korpu_runtime import http as runtime_http
from korpu_runtime.service import Service
from support import bus, infra


def _shelter(name: str, places: int) -> dict[str, Any]:
    return {"name": name, "region": "Baku", "serves": ["women"], "beds": places}


def _program(name: str, places: int) -> dict[str, Any]:
    return {"name": name, "region": "Baku", "seats": places, "languages": ["az"], "min_age": 16}


def _lawyer(name: str, places: int) -> dict[str, Any]:
    return {"name": name, "regions": ["Baku"], "languages": ["az"], "max_caseload": places}


def _counsellor(name: str, places: int) -> dict[str, Any]:
    return {"name": name, "regions": ["Baku"], "languages": ["az"], "max_caseload": places}


def _clinic(name: str, places: int) -> dict[str, Any]:
    # One open day, so that `places` is every appointment it has, as the suite counts.
    return {
        "name": name,
        "region": "Baku",
        "serves": ["women"],
        "appointments_per_day": places,
        "booking_days": 1,
    }


def _fund(name: str, places: int) -> dict[str, Any]:
    # `places` allowances of 700.00 AZN (the amounts as exact decimal strings).
    return {
        "name": name,
        "region": "Baku",
        "budget": f"{700 * places}.00",
        "amount_per_person": "700.00",
        "currency": "AZN",
    }


# Each provider's directory entry in Baku with `places` for a woman of 30 speaking
# Azerbaijani (the person every request below describes). A provider in the list of
# services without one here fails the suite: every provider runs through it.
ENTRIES: dict[str, Callable[[str, int], dict[str, Any]]] = {
    "shelter": _shelter,
    "employment": _program,
    "legal_aid": _lawyer,
    "psychological": _counsellor,
    "medical": _clinic,
    "material_assistance": _fund,
}
# Each provider (`korpu.catalog.PROVIDERS`, from the list of services): its bootstrap and entry.
PROVIDERS: dict[str, tuple[ModuleType, Any]] = {
    name: (catalog.bootstrap(name), ENTRIES[name]) for name in catalog.PROVIDERS
}


@dataclass
class Running:
    name: str
    redis_url: str
    bootstrap: ModuleType
    service: Service
    entry: Any

    @property
    def requests(self) -> str:
        return streams.requests(self.bootstrap.SERVICE.provider.service)

    @property
    def updates(self) -> str:
        return streams.updates(self.bootstrap.SERVICE.provider.service)

    async def seed(self, places: int, name: str = "Baku") -> None:
        entries = [self.entry(name, places)]
        await self.service.db.run(lambda conn: self.bootstrap.SERVICE.load(conn, entries))

    def requested(self, task_id: str) -> referral.TaskRequested:
        return referral.TaskRequested(
            task_id=task_id,
            referral_id=f"referral-{task_id}",
            service=self.name,
            region="Baku",
            is_child=False,
            sex="female",
            age_years=30,
            languages=["az"],
        )

    def cancelled(self, task_id: str) -> referral.TaskCancelled:
        return referral.TaskCancelled(
            task_id=task_id, referral_id=f"referral-{task_id}", service=self.name
        )

    async def send(self, *payloads: referral.TaskRequested | referral.TaskCancelled) -> Envelope:
        sent = None
        for payload in payloads:
            sent = await bus.publish(self.redis_url, self.requests, payload, payload.referral_id)
        assert sent is not None
        return sent

    async def send_written(
        self, payload: referral.TaskRequested | referral.TaskCancelled, **data: Any
    ) -> None:
        """`payload` with `data` sent as given, unvalidated: a newer referral service's
        words this provider's vocabulary lacks (`bus.written`)."""
        stream, subject = self.requests, payload.referral_id
        await bus.publish(self.redis_url, stream, payload, subject, written_over=data)

    async def dead_letters(self) -> int:
        return int(await self.service.redis.xlen(streams.dead_letters(self.name)))

    async def send_at_once(self, payloads: list[Any]) -> None:
        """Every payload in one pipeline, so that replicas race for them."""
        await self.send_again(
            [
                Envelope.wrap(p, source=source_of("referral"), subject=p.referral_id)
                for p in payloads
            ]
        )

    async def send_again(self, envelopes: list[Envelope]) -> None:
        """These very entries on the stream (again), as a relay that died before marking
        them sent would add them."""
        client = aioredis.from_url(self.redis_url)
        try:
            pipe = client.pipeline(transaction=False)
            for envelope in envelopes:
                pipe.xadd(self.requests, bus.entry(self.requests, envelope))  # type: ignore[arg-type]
            await pipe.execute()
        finally:
            await client.aclose()

    async def complete(self, task_id: str) -> None:
        """A case worker ends the help given (what `POST /v1/tasks/{id}/complete` runs)."""
        handlers = self.bootstrap.SERVICE.handlers
        await self.service.transaction(lambda uow: handlers.complete(uow, task_id, "goal_achieved"))

    def client(self) -> httpx.AsyncClient:
        """A client of the provider's HTTP API, served on this running service (no second
        service is started: the app's lifespan is not entered)."""
        kit = self.bootstrap.SERVICE
        routes = provider_http.router(kit.provider, kit.handlers, self.service)
        app = runtime_http.build_app(self.service, [routes], title=kit.title)
        return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://kit")

    async def directory(self) -> list[dict[str, Any]]:
        return list(await self.service.db.run(self.bootstrap.SERVICE.provider.directory_view))

    async def settled(self) -> list[tuple[Envelope, providers.TaskUpdated]]:
        """Every answer once nothing is left to handle or send, each event once."""
        await infra.wait_for(self._idle, message=f"the {self.name} service did not settle")
        found = await bus.read_events(self.redis_url, self.updates, providers.TaskUpdated.TYPE)
        unique = {envelope.id: envelope for envelope in found}
        return [(e, registry.read(e, providers.TaskUpdated)) for e in unique.values()]

    async def latest(self) -> dict[str, providers.TaskUpdated]:
        """Each task's newest answer, by revision, as the referral service keeps it."""
        newest: dict[str, providers.TaskUpdated] = {}
        for _, update in await self.settled():
            known = newest.get(update.task_id)
            if known is None or update.revision > known.revision:
                newest[update.task_id] = update
        return newest

    async def _idle(self) -> bool:
        client = aioredis.from_url(self.redis_url)
        try:
            groups = await client.xinfo_groups(self.requests)
        finally:
            await client.aclose()
        if any(g["lag"] != 0 or g["pending"] != 0 for g in groups):
            return False
        outbox = self.bootstrap.SERVICE.provider.schema.outbox
        unsent = sa.select(sa.func.count()).where(outbox.c.published_at.is_(None))
        return await self.service.db.run(lambda conn: conn.execute(unsent).scalar_one()) == 0


async def started(
    name: str, redis_url: str, database_url: str, consumer: str = "t1", **overrides: Any
) -> Running:
    module, entry = PROVIDERS[name]
    settings = module.Settings(
        redis_url=redis_url,
        database_url=database_url,
        consumer_name=consumer,
        # Seeding writes to the outbox outside a service transaction, which only the
        # relay's poll picks up: keep that short in tests.
        relay_poll_seconds=0.1,
        **overrides,
    )
    service = module.build_service(settings)
    await service.start()
    return Running(name, redis_url, module, service, entry)


def shuffled(items: list[Any], seed: int) -> list[Any]:
    mixed = list(items)
    random.Random(seed).shuffle(mixed)
    return mixed
