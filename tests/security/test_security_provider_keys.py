"""Attacks on a provider's case workers' API: discharging a person and reading who is
where, without a key, with another provider's key, an agency's key, a revoked key, or
a key that may only read. Each provider runs as its app on a real Redis and database,
holding one accepted task (a bed, a program place, a lawyer taken).
"""

from __future__ import annotations

import importlib
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from fastapi import FastAPI
from sqlalchemy.engine import Connection

from korpu import catalog
from korpu_contracts import referral, streams
from korpu_runtime.database import Database
from korpu_runtime.http import PROBLEM_JSON
from korpu_runtime.service import Service
from referral.adapters import organizations
from referral.adapters import tables as referral_tables
from support import bus, infra, provider_keys

DIRECTORIES: dict[str, tuple[str, dict[str, Any]]] = {
    "shelter": (
        "/v1/facilities",
        {"name": "Baku women's house", "region": "Baku", "serves": ["women"], "beds": 1},
    ),
    "employment": (
        "/v1/programs",
        {"name": "Tailoring", "region": "Baku", "seats": 1, "languages": ["az"], "min_age": 16},
    ),
    "legal_aid": (
        "/v1/lawyers",
        {"name": "R. Aliyev", "regions": ["Baku"], "languages": ["az"], "max_caseload": 1},
    ),
    "psychological": (
        "/v1/counsellors",
        {"name": "S. Abbasova", "regions": ["Baku"], "languages": ["az"], "max_caseload": 1},
    ),
    "medical": (
        "/v1/clinics",
        {"name": "Baku clinic", "region": "Baku", "serves": ["women"], "appointments_per_day": 1},
    ),
    "material_assistance": (
        "/v1/funds",
        {
            "name": "Baku fund",
            "region": "Baku",
            "budget": "700.00",
            "amount_per_person": "700.00",
            "currency": "AZN",
        },
    ),
}
DISCHARGE = {"outcome": "goal_achieved"}
# The provider scopes, as written in keys and the docs: names a case worker's key holds.
DIRECTORY_READ, TASKS_READ, TASKS_ACT = "directory:read", "tasks:read", "tasks:act"


@dataclass(frozen=True)
class Provider:
    name: str
    service: Service
    client: httpx.AsyncClient  # sends no key of its own
    task_id: str
    referral_id: str
    tmp_path: Path

    @property
    def directory(self) -> str:
        return DIRECTORIES[self.name][0]

    @property
    def routes(self) -> list[tuple[str, str, dict[str, str] | None]]:
        """Every keyed route: the directory, the task, its discharge."""
        return [
            ("GET", self.directory, None),
            ("GET", f"/v1/tasks/{self.task_id}", None),
            ("POST", f"/v1/tasks/{self.task_id}/complete", DISCHARGE),
        ]

    async def call(
        self, method: str, path: str, body: dict[str, str] | None, key: str | None
    ) -> httpx.Response:
        headers = provider_keys.bearer(key) if key is not None else {}
        return await self.client.request(method, path, json=body, headers=headers)

    async def status(self) -> str:
        """The task's status as the provider's database holds it."""
        tasks = _tables(self.name).tasks
        query = sa.select(tasks.c.status).where(tasks.c.task_id == self.task_id)
        found: str = await self.service.db.run(lambda conn: conn.execute(query).scalar_one())
        return found


def _tables(service: str) -> ModuleType:
    return importlib.import_module(f"{service}.adapters.tables")


@pytest.fixture(params=catalog.PROVIDERS)
async def provider(
    request: pytest.FixtureRequest, redis_db: str, database_url: str, tmp_path: Path
) -> AsyncIterator[Provider]:
    name: str = request.param
    module = catalog.bootstrap(name)
    settings = module.Settings(redis_url=redis_db, database_url=database_url, consumer_name="t1")
    app: FastAPI = module.build_app(settings)
    async with app.router.lifespan_context(app):
        service: Service = app.state.service
        module.seed(settings, [DIRECTORIES[name][1]])
        task_id, referral_id = str(uuid.uuid4()), str(uuid.uuid4())
        requested = referral.TaskRequested(
            task_id=task_id, referral_id=referral_id, service=name, region="Baku",
            is_child=False, sex="female", age_years=30, languages=["az"],
        )  # fmt: skip
        await bus.publish(redis_db, streams.REQUESTS_BY_SERVICE[name], requested, referral_id)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://provider") as client:
            held = Provider(name, service, client, task_id, referral_id, tmp_path)

            async def accepted() -> bool:
                try:
                    return await held.status() == "accepted"
                except sa.exc.NoResultFound:
                    return False

            await infra.wait_for(accepted, message=f"{name} never accepted the task")
            yield held


def _refused(answer: httpx.Response, status: int) -> bool:
    return (
        answer.status_code == status
        and answer.headers.get("content-type") == PROBLEM_JSON
        and answer.json().get("status") == status
    )


def _tells_nothing(provider: Provider, answer: httpx.Response) -> bool:
    """The refusal names no facility, program or lawyer, and no referral."""
    shown = answer.text
    return DIRECTORIES[provider.name][1]["name"] not in shown and provider.referral_id not in shown


def _key_elsewhere(service: str, tmp_path: Path) -> str:
    """A key with its default scopes of an organization of `service`, in that service's
    own database (a file of its own, as every service has)."""
    url = f"sqlite:///{tmp_path / f'{service}-elsewhere.db'}"
    keyring = catalog.keyring(service)
    metadata = catalog.bootstrap(service).METADATA
    made = Database.once(url, metadata, lambda conn: keyring.create_organization(conn, "Them"))
    return made[1]


async def test_nobody_discharges_a_person_without_a_key(provider: Provider) -> None:
    path = f"/v1/tasks/{provider.task_id}/complete"
    for authorization in (None, "Bearer", "Bearer ", "Basic Y2FzZTp3b3JrZXI=", "korpu_"):
        headers = {} if authorization is None else {"Authorization": authorization}
        answer = await provider.client.post(path, json=DISCHARGE, headers=headers)
        assert _refused(answer, 401), (authorization, answer.status_code, answer.text)
        assert answer.headers["www-authenticate"] == "Bearer"
    assert await provider.status() == "accepted"


async def test_nobody_reads_the_directory_or_a_task_without_a_key(provider: Provider) -> None:
    for method, path, body in provider.routes[:2]:
        answer = await provider.call(method, path, body, None)
        assert _refused(answer, 401), (path, answer.status_code)
        assert _tells_nothing(provider, answer), answer.text


async def test_a_key_of_another_provider_means_nothing_here(provider: Provider) -> None:
    for other in catalog.PROVIDERS:
        if other == provider.name:
            continue
        stranger = _key_elsewhere(other, provider.tmp_path)
        for method, path, body in provider.routes:
            answer = await provider.call(method, path, body, stranger)
            assert _refused(answer, 401), (other, path, answer.status_code)
            assert _tells_nothing(provider, answer), answer.text
    assert await provider.status() == "accepted"


async def test_an_agencys_key_means_nothing_at_a_provider(provider: Provider) -> None:
    url = f"sqlite:///{provider.tmp_path / 'referral-elsewhere.db'}"
    _, agency_key = Database.once(
        url, referral_tables.metadata, lambda conn: organizations.create(conn, "Police unit")
    )
    for method, path, body in provider.routes:
        answer = await provider.call(method, path, body, agency_key)
        assert _refused(answer, 401), (path, answer.status_code)
    assert await provider.status() == "accepted"


async def test_a_revoked_key_is_refused_from_then_on(provider: Provider) -> None:
    keyring = catalog.keyring(provider.name)
    key = await provider_keys.new_key(provider.service, keyring)
    reads = await provider.call("GET", f"/v1/tasks/{provider.task_id}", None, key)
    assert reads.status_code == 200  # the key worked until now

    def revoke(conn: Connection) -> None:
        [found] = [k for o in keyring.organizations(conn) for k in keyring.keys(conn, o.id)]
        keyring.revoke(conn, found.id, "a case worker's laptop was stolen")

    await provider.service.db.run(revoke)
    for method, path, body in provider.routes:
        answer = await provider.call(method, path, body, key)
        assert _refused(answer, 401), (path, answer.status_code)
    assert await provider.status() == "accepted"


async def test_a_key_that_may_only_read_cannot_discharge(provider: Provider) -> None:
    reading = (DIRECTORY_READ, TASKS_READ)
    key = await provider_keys.new_key(
        provider.service, catalog.keyring(provider.name), scopes=reading
    )
    path = f"/v1/tasks/{provider.task_id}/complete"
    answer = await provider.call("POST", path, DISCHARGE, key)
    assert _refused(answer, 403)
    assert answer.json()["missing_scope"] == TASKS_ACT
    assert await provider.status() == "accepted"


async def test_every_read_and_discharge_is_in_the_providers_own_trail(provider: Provider) -> None:
    from korpu_runtime import audit, provider_access

    keyring = catalog.keyring(provider.name)
    key = await provider_keys.new_key(provider.service, keyring)
    reader = await provider_keys.new_key(provider.service, keyring, "Readers", [TASKS_READ])
    made_up = "made-up-by-the-caller"  # a caller's text, never written to the trail
    for method, path, body in provider.routes:
        assert (await provider.call(method, path, body, key)).status_code == 200, path
    assert (await provider.call("GET", f"/v1/tasks/{made_up}", None, key)).status_code == 404
    assert (await provider.call("GET", provider.directory, None, reader)).status_code == 403

    trail = catalog.trail(provider.name)
    entries = await provider.service.db.run(lambda conn: trail.entries(conn, audit.Filter()))
    keys = await provider.service.db.run(
        lambda conn: {
            k.id: k for o in keyring.organizations(conn) for k in keyring.keys(conn, o.id)
        }
    )
    shown = [
        (e.action, e.subject, e.detail.get("route"), keys[e.actor_id].organization_id)
        for e in entries
    ]
    task = provider.task_id
    assert [(action, subject, route) for action, subject, route, _ in shown] == [
        (provider_access.DIRECTORY_VIEWED, None, f"GET {provider.directory}"),
        (provider_access.TASK_VIEWED, task, "GET /v1/tasks/{task_id}"),
        (provider_access.TASK_COMPLETED, task, "POST /v1/tasks/{task_id}/complete"),
        (provider_access.TASK_VIEWED, None, "GET /v1/tasks/{task_id}"),
        (provider_access.ACCESS_DENIED, None, f"GET {provider.directory}"),
    ]
    assert all(e.actor_kind == "api_key" and e.organization_id for e in entries)
    assert [organization for *_, organization in shown] == [e.organization_id for e in entries]
    assert made_up not in str([e.detail for e in entries])
    # Append-only, in the database itself: the discharge's entry cannot be taken back.
    delete = sa.delete(trail.table).where(trail.table.c.action == provider_access.TASK_COMPLETED)
    with pytest.raises(sa.exc.DatabaseError):
        await provider.service.db.run(lambda conn: conn.execute(delete))
