"""The counsellor directory (`korpu seed`, the demo's seed file) and the case workers' HTTP API."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from counselling import asking, counsellor, newest, send
from fastapi import FastAPI

from korpu_contracts import regions
from korpu_provider import directory
from psychological import bootstrap
from psychological.provider import Psychological
from support import provider_keys

DEMO_DIRECTORY = Path(__file__).resolve().parents[3] / "deploy" / "demo-directory.json"
ABBASOVA = counsellor("S. Abbasova", works_in=("Bakı", "Gəncə"), max_caseload=1, children=True)


@pytest.fixture
async def api(settings: bootstrap.Settings) -> AsyncIterator[httpx.AsyncClient]:
    app: FastAPI = bootstrap.build_app(settings)
    async with app.router.lifespan_context(app):
        key = await provider_keys.new_key(app.state.service, bootstrap.KEYRING)
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app),
            base_url="http://psychological",
            headers=provider_keys.bearer(key),
        ) as client:
            yield client


def test_a_bad_directory_is_refused_whole_naming_every_bad_field(
    settings: bootstrap.Settings,
) -> None:
    typo = {**ABBASOVA, "childern": True}
    mute = {**counsellor("T. Məmmədli", max_caseload=2), "languages": []}
    nowhere = counsellor("E. Rzayev", works_in=("Atlantis",), max_caseload=2)

    with pytest.raises(directory.InvalidDirectory) as refused:
        bootstrap.seed(settings, [ABBASOVA, typo, mute, nowhere])

    assert [error.split(":")[0] for error in refused.value.errors] == [
        "counsellors[1].childern",
        "counsellors[2].languages",
        "counsellors[3].regions[0]",
    ]


async def test_the_directory_shows_who_counsels_children_and_each_free_place(
    settings: bootstrap.Settings, api: httpx.AsyncClient, redis_db: str
) -> None:
    bootstrap.seed(settings, [ABBASOVA, counsellor("T. Məmmədli", max_caseload=2)])
    await send(redis_db, asking("girl", child=True))
    await newest(redis_db, 1)

    shown = (await api.get("/v1/counsellors")).json()

    assert [(c["name"], c["regions"], c["children"], c["caseload"], c["free"]) for c in shown] == [
        ("S. Abbasova", ["AZ-BA", "AZ-GA"], True, 1, 0),
        # Not said in the seed file: adults only.
        ("T. Məmmədli", ["AZ-BA"], False, 0, 2),
    ]


async def test_loading_again_updates_by_name_keeps_the_caseload_and_a_raised_cap_takes_the_waiting(
    settings: bootstrap.Settings, api: httpx.AsyncClient, redis_db: str
) -> None:
    bootstrap.seed(settings, [ABBASOVA])
    await send(redis_db, asking("girl", child=True), asking("boy", child=True))
    await newest(redis_db, 2)

    assert bootstrap.seed(settings, [{**ABBASOVA, "max_caseload": 2}]) == 1

    (abbasova,) = (await api.get("/v1/counsellors")).json()
    assert (abbasova["caseload"], abbasova["max_caseload"]) == (2, 2)
    assert (await newest(redis_db, 3))["boy"].status == "accepted"


async def test_a_case_worker_sees_the_task_and_ends_it_and_the_next_child_gets_the_counsellor(
    settings: bootstrap.Settings, api: httpx.AsyncClient, redis_db: str
) -> None:
    bootstrap.seed(settings, [ABBASOVA])
    await send(redis_db, asking("girl", child=True, speaks=["vi"]), asking("boy", child=True))
    await newest(redis_db, 2)

    girl = (await api.get("/v1/tasks/girl")).json()
    assert (girl["status"], girl["counsellor"], girl["interpreter_needed"]) == (
        "accepted",
        "S. Abbasova",
        True,
    )
    free_text = await api.post("/v1/tasks/girl/complete", json={"outcome": "feels better"})
    ended = await api.post("/v1/tasks/girl/complete", json={"outcome": "goal_achieved"})

    assert free_text.status_code == 422
    assert (ended.status_code, ended.json()["outcome"]) == (200, "goal_achieved")
    boy = (await api.get("/v1/tasks/boy")).json()
    assert (boy["status"], boy["counsellor"], boy["interpreter_needed"]) == (
        "accepted",
        "S. Abbasova",
        False,
    )


def test_the_demo_seed_file_loads_and_a_child_housed_in_baku_or_ganja_can_be_counselled() -> None:
    document = json.loads(DEMO_DIRECTORY.read_text("utf-8"))
    entries = Psychological.entries.validate_python(document["counsellors"])
    housed_in = {regions.code_of(shelter["region"]) for shelter in document["shelters"]}

    for_children = {region for c in entries if c.children for region in c.regions}

    assert housed_in == {"AZ-BA", "AZ-GA"}
    assert housed_in <= for_children
    assert any(not c.children for c in entries), "and some counsel adults only"
