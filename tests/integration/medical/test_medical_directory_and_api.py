"""The clinic directory (`korpu seed`) and the case workers' HTTP API, on real infrastructure."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from fastapi import FastAPI
from medical_helpers import clinic, day, latest, person, send

from korpu_contracts.vocabulary import TaskStatus
from korpu_provider import directory
from korpu_provider.bootstrap import Entrypoints
from korpu_runtime.service import Service
from korpu_runtime.settings import ServiceSettings
from medical.adapters import clinics
from support import provider_keys

DEMO_DIRECTORY = Path(__file__).resolve().parents[3] / "deploy" / "demo-directory.json"
SMALL = clinic("Baku City Hospital", per_day=1, booking_days=1)


@pytest.fixture
async def app(kit: Entrypoints, settings: ServiceSettings) -> AsyncIterator[FastAPI]:
    application = kit.build_app(settings)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def client(kit: Entrypoints, app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    running: Service = app.state.service
    key = await provider_keys.new_key(running, kit.keyring)
    transport = httpx.ASGITransport(app=app)
    headers = provider_keys.bearer(key)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://medical", headers=headers
    ) as api:
        yield api


@pytest.fixture
async def seen_and_waiting(
    kit: Entrypoints, settings: ServiceSettings, client: httpx.AsyncClient, redis_db: str
) -> None:
    """One appointment in all: "seen" booked it, "waiting" waits."""
    kit.seed(settings, [SMALL])
    await send(redis_db, person("seen"), person("waiting"))
    await latest(redis_db, 2)


def test_a_bad_directory_is_refused_whole_naming_every_bad_field(
    kit: Entrypoints, settings: ServiceSettings
) -> None:
    bad = [
        SMALL,
        {**SMALL, "name": "Family clinic", "serves": ["women", "families"]},
        {**SMALL, "name": "Misspelt", "apointments_per_day": 2},
        {**SMALL, "name": "Negative", "appointments_per_day": -1},
        {**SMALL, "name": "No days", "booking_days": 0},
        {**SMALL, "name": "Nowhere", "region": "Atlantis"},
    ]

    with pytest.raises(directory.InvalidDirectory) as refused:
        kit.seed(settings, bad)

    assert [error.split(":")[0] for error in refused.value.errors] == [
        "clinics[1].serves",
        "clinics[2].apointments_per_day",
        "clinics[3].appointments_per_day",
        "clinics[4].booking_days",
        "clinics[5].region",
    ]
    assert "not families" in refused.value.errors[0]


async def test_the_demo_clinics_load_once_by_name_with_their_regions_as_codes(
    kit: Entrypoints, settings: ServiceSettings, client: httpx.AsyncClient
) -> None:
    clinics = json.loads(DEMO_DIRECTORY.read_text("utf-8"))["clinics"]

    assert kit.seed(settings, clinics) == len(clinics) >= 3
    assert kit.seed(settings, clinics) == len(clinics)  # updated by name, none added

    shown = (await client.get("/v1/clinics")).json()
    assert [c["name"] for c in shown] == sorted(c["name"] for c in clinics)
    ganja = next(c for c in shown if c["name"] == "Ganja City Hospital No. 1")
    assert (ganja["region"], ganja["booking_days"], ganja["next_free_day"]) == (
        "AZ-GA",
        28,
        day(1),
    )
    assert ganja["free"] == 28 * ganja["appointments_per_day"]


async def test_the_database_itself_refuses_a_booking_beyond_a_days_appointments(
    kit: Entrypoints, settings: ServiceSettings, service: Service
) -> None:
    kit.seed(settings, [SMALL, {**SMALL, "name": "Closed", "appointments_per_day": 0}])

    def book_past_the_cap(conn: sa.Connection) -> None:
        found = {c.name: c for c in kit.provider.directory(conn, lock=True).values()}
        small, closed = found["Baku City Hospital"], found["Closed"]
        assert small.free_day is not None
        clinics.book(conn, small.id, small.free_day)
        with pytest.raises(clinics.OverBooking):
            clinics.book(conn, small.id, small.free_day)
        with pytest.raises(clinics.OverBooking):
            clinics.book(conn, closed.id, small.free_day)

    await service.db.run(book_past_the_cap)


@pytest.mark.usefixtures("seen_and_waiting")
async def test_a_case_worker_sees_the_booked_day_and_an_examination_held_frees_no_day(
    client: httpx.AsyncClient, redis_db: str
) -> None:
    booked = (await client.get("/v1/tasks/seen")).json()
    assert (booked["status"], booked["appointment"]) == ("accepted", day(1))
    assert booked["clinic"] == {"name": "Baku City Hospital", "region": "AZ-BA"}

    held = await client.post("/v1/tasks/seen/complete", json={"outcome": "goal_achieved"})

    assert (held.status_code, held.json()["status"]) == (200, "completed")
    waiting = (await client.get("/v1/tasks/waiting")).json()
    assert (waiting["status"], waiting["waitlist_position"]) == ("on-hold", 1)
    (clinic_shown,) = (await client.get("/v1/clinics")).json()
    assert (clinic_shown["free"], clinic_shown["next_free_day"]) == (0, None)
    assert (await latest(redis_db, 3))["seen"].status is TaskStatus.COMPLETED


@pytest.mark.usefixtures("seen_and_waiting")
async def test_only_a_booked_examination_can_be_marked_held(client: httpx.AsyncClient) -> None:
    unknown = await client.post("/v1/tasks/nobody/complete", json={"outcome": "other"})
    on_hold = await client.post("/v1/tasks/waiting/complete", json={"outcome": "other"})

    assert unknown.status_code == 404
    assert on_hold.status_code == 409
