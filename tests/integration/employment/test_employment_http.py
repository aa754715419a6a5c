"""The case workers' API: the directory in use, a task's place, and completing a program."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from employment_harness import Employment, program, settings

from employment import bootstrap
from support import provider_keys


@pytest.fixture
async def api(
    redis_db: str, database_url: str
) -> AsyncIterator[tuple[httpx.AsyncClient, Employment]]:
    """The app with its lifespan running, and a harness to publish and read events."""
    app = bootstrap.build_app(settings(redis_db, database_url))
    harness = Employment(app.state.service.settings, app.state.service)
    async with app.router.lifespan_context(app):
        key = await provider_keys.new_key(app.state.service, bootstrap.KEYRING)
        transport = httpx.ASGITransport(app=app)
        headers = provider_keys.bearer(key)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://employment", headers=headers
        ) as client:
            yield client, harness


async def test_completing_a_program_frees_the_seat_for_the_next_person_waiting(
    api: tuple[httpx.AsyncClient, Employment],
) -> None:
    client, employment = api
    await employment.seed([program("Tailoring", seats=1)])
    for task_id in ("enrolled", "waiting"):
        await employment.ask(task_id)
    await employment.answers("enrolled", "waiting")

    response = await client.post("/v1/tasks/enrolled/complete", json={"outcome": "goal_achieved"})

    assert response.status_code == 200
    assert response.json()["status"] == "completed"
    completed = await employment.becomes("enrolled", "completed")
    assert completed.detail == {
        "program": "Tailoring",
        "region": "AZ-BA",
        "outcome": "goal_achieved",
    }
    await employment.becomes("waiting", "accepted")
    waiting = (await client.get("/v1/tasks/waiting")).json()
    assert waiting["status"] == "accepted"
    assert waiting["program"]["name"] == "Tailoring"
    [tailoring] = (await client.get("/v1/programs")).json()
    assert (tailoring["enrolled"], tailoring["free_seats"], tailoring["waiting"]) == (1, 0, 0)


async def test_a_waiting_task_shows_its_place_and_the_program_how_many_wait(
    api: tuple[httpx.AsyncClient, Employment],
) -> None:
    client, employment = api
    await employment.seed([program("Tailoring", seats=1)])
    for task_id in ("enrolled", "second", "third"):
        await employment.ask(task_id)
    await employment.answers("enrolled", "second", "third")

    third = (await client.get("/v1/tasks/third")).json()
    [tailoring] = (await client.get("/v1/programs")).json()

    assert (third["status"], third["reason"], third["waitlist_position"]) == (
        "on-hold",
        "no_capacity",
        2,
    )
    assert third["program"] is None
    assert (tailoring["seats"], tailoring["enrolled"], tailoring["waiting"]) == (1, 1, 2)


async def test_only_an_accepted_task_can_complete(
    api: tuple[httpx.AsyncClient, Employment],
) -> None:
    client, employment = api
    await employment.seed([program("Tailoring", seats=1)])
    for task_id in ("enrolled", "waiting"):
        await employment.ask(task_id)
    await employment.answers("enrolled", "waiting")

    unknown = await client.post("/v1/tasks/nobody/complete", json={"outcome": "other"})
    waiting = await client.post("/v1/tasks/waiting/complete", json={"outcome": "other"})

    assert unknown.status_code == 404
    assert (await client.get("/v1/tasks/nobody")).status_code == 404
    assert waiting.status_code == 409
    assert waiting.headers["content-type"] == "application/problem+json"


async def test_a_bad_completion_body_is_refused_naming_each_field(
    api: tuple[httpx.AsyncClient, Employment],
) -> None:
    client, _ = api

    response = await client.post(
        "/v1/tasks/any/complete", json={"outcome": "found work at Aysel's cousin", "grade": "A"}
    )

    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert {e["field"] for e in response.json()["errors"]} == {"outcome", "grade"}
