"""The case workers' API: the directory's use, a task's state, and discharging a person."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
import shelter_harness

from shelter import bootstrap
from support import provider_keys

HOUSE = {"name": "Baku women's house", "region": "Baku", "serves": ["women"], "beds": 1}


@pytest.fixture
async def api(
    redis_db: str, database_url: str
) -> AsyncIterator[tuple[httpx.AsyncClient, shelter_harness.Shelter]]:
    settings = bootstrap.Settings(redis_url=redis_db, database_url=database_url, consumer_name="t1")
    app = bootstrap.build_app(settings)
    async with app.router.lifespan_context(app):
        shelter = shelter_harness.Shelter(redis_db, settings, app.state.service)
        key = await provider_keys.new_key(app.state.service, bootstrap.KEYRING)
        transport = httpx.ASGITransport(app=app)
        headers = provider_keys.bearer(key)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://shelter", headers=headers
        ) as client:
            yield client, shelter


async def test_a_discharge_completes_the_task_and_gives_the_bed_to_the_next_person(
    api: tuple[httpx.AsyncClient, shelter_harness.Shelter],
) -> None:
    client, shelter = api
    await shelter.seed(HOUSE)
    await shelter.request("t1")
    await shelter.request("t2")
    await shelter.answers(2)
    waiting = (await client.get("/v1/tasks/t2")).json()
    assert (waiting["status"], waiting["waitlist_position"]) == ("on-hold", 1)

    response = await client.post("/v1/tasks/t1/complete", json={"outcome": "goal_achieved"})

    assert response.status_code == 200
    assert response.json()["status"] == "completed"
    completed, promoted = (await shelter.answers(4))[2:]
    assert (completed.task_id, completed.status) == ("t1", "completed")
    assert completed.detail == {
        "facility": "Baku women's house",
        "region": "AZ-BA",
        "outcome": "goal_achieved",
    }
    assert (promoted.task_id, promoted.status) == ("t2", "accepted")
    placed = (await client.get("/v1/tasks/t2")).json()
    assert placed["facility"]["name"] == "Baku women's house"
    assert placed["waitlist_position"] is None
    (facility,) = (await client.get("/v1/facilities")).json()
    assert (facility["beds"], facility["occupied"], facility["free"]) == (1, 1, 0)
    # What the placement rules read besides the categories, as the directory set them.
    assert (facility["region"], facility["child_unit"]) == ("AZ-BA", False)
    assert (facility["accepts_pregnant"], facility["accessible"]) == (True, False)


async def test_only_a_known_accepted_task_can_be_completed(
    api: tuple[httpx.AsyncClient, shelter_harness.Shelter],
) -> None:
    client, shelter = api
    await shelter.seed(HOUSE)
    await shelter.request("t1")
    await shelter.request("t2")
    await shelter.answers(2)

    unknown = await client.post("/v1/tasks/nope/complete", json={"outcome": "other"})
    waiting = await client.post("/v1/tasks/t2/complete", json={"outcome": "other"})
    free_text = await client.post(
        "/v1/tasks/t1/complete", json={"outcome": "moved in with her sister Aysel"}
    )
    misspelt = await client.post("/v1/tasks/t1/complete", json={"outcom": "other"})

    assert unknown.status_code == 404
    assert (await client.get("/v1/tasks/nope")).status_code == 404
    assert waiting.status_code == 409
    assert waiting.headers["content-type"] == "application/problem+json"
    assert free_text.status_code == 422
    assert {e["field"] for e in misspelt.json()["errors"]} == {"outcome", "outcom"}
    assert (await client.get("/v1/tasks/t1")).json()["status"] == "accepted"
