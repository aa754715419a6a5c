"""The lawyer directory (`korpu seed`) and the case workers' HTTP API, on real infrastructure."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI
from legal_aid_helpers import answers_by_task, case, lawyer, send

from korpu_contracts.vocabulary import TaskStatus
from korpu_provider import directory
from korpu_runtime.service import Service
from legal_aid import bootstrap
from support import provider_keys

ALIYEV = lawyer("R. Aliyev", ["Baku", "Ganja"], ["az", "ru", "en"], cap=1)


@pytest.fixture
def settings(redis_db: str, database_url: str) -> bootstrap.Settings:
    return bootstrap.Settings(redis_url=redis_db, database_url=database_url, consumer_name="t1")


@pytest.fixture
async def app(settings: bootstrap.Settings) -> AsyncIterator[FastAPI]:
    application = bootstrap.build_app(settings)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    key = await provider_keys.new_key(service_of(app), bootstrap.KEYRING)
    transport = httpx.ASGITransport(app=app)
    headers = provider_keys.bearer(key)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://legal-aid", headers=headers
    ) as api:
        yield api


def service_of(app: FastAPI) -> Service:
    running: Service = app.state.service
    return running


def test_a_bad_directory_is_refused_whole_naming_every_bad_field(
    settings: bootstrap.Settings,
) -> None:
    bad = [ALIYEV, {**ALIYEV, "regoins": ["Baku"]}, {**ALIYEV, "max_caseload": -1}]

    with pytest.raises(directory.InvalidDirectory) as refused:
        bootstrap.seed(settings, bad)

    assert refused.value.errors == [
        "lawyers[1].regoins: Extra inputs are not permitted",
        "lawyers[2].max_caseload: Input should be greater than or equal to 0",
    ]


async def test_a_case_worker_ends_a_case_and_the_next_person_gets_the_lawyer(
    settings: bootstrap.Settings, client: httpx.AsyncClient, redis_db: str
) -> None:
    bootstrap.seed(settings, [ALIYEV])
    await send(redis_db, case("open"), case("waiting"))
    await answers_by_task(redis_db, 2)
    waiting = (await client.get("/v1/tasks/waiting")).json()
    assert (waiting["status"], waiting["waitlist_position"]) == ("on-hold", 1)

    ended = await client.post("/v1/tasks/open/complete", json={"outcome": "goal_achieved"})

    assert ended.status_code == 200
    assert (ended.json()["status"], ended.json()["outcome"]) == ("completed", "goal_achieved")
    promoted = (await client.get("/v1/tasks/waiting")).json()
    assert (promoted["status"], promoted["lawyer"]) == ("accepted", "R. Aliyev")
    found = await answers_by_task(redis_db, 4)
    assert found["open"].detail == {"lawyer": "R. Aliyev", "outcome": "goal_achieved"}
    assert found["waiting"].status is TaskStatus.ACCEPTED


async def test_only_an_accepted_case_can_be_ended(
    settings: bootstrap.Settings, client: httpx.AsyncClient, redis_db: str
) -> None:
    bootstrap.seed(settings, [ALIYEV])
    await send(redis_db, case("open"), case("waiting"))
    await answers_by_task(redis_db, 2)

    unknown = await client.post("/v1/tasks/nobody/complete", json={"outcome": "other"})
    on_hold = await client.post("/v1/tasks/waiting/complete", json={"outcome": "other"})
    free_text = await client.post(
        "/v1/tasks/open/complete", json={"outcome": "client moved to Ganja"}
    )

    assert unknown.status_code == 404
    assert on_hold.status_code == 409
    assert on_hold.headers["content-type"] == "application/problem+json"
    assert free_text.status_code == 422
    assert free_text.json()["errors"][0]["field"] == "outcome"
