"""Case workers follow and act on their tasks over HTTP, at every provider (korpu_provider).

Run against each provider, on SQLite and PostgreSQL: polling what changed since, page by
page, and what a case worker does to a task (the person arrived, never came, was
declined, finished, moved), each allowed from a few statuses only, recorded in the
task's history and the provider's audit trail, and told to the referral service.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from providers_harness import Running, started

from korpu import catalog
from korpu_runtime import audit, provider_access
from support import provider_keys


@pytest.fixture
async def workers(provider: Running) -> AsyncIterator[httpx.AsyncClient]:
    """The provider's case workers' client, with a key holding every scope."""
    key = await provider_keys.new_key(provider.service, catalog.keyring(provider.name))
    async with provider.client() as client:
        client.headers.update(provider_keys.bearer(key))
        yield client


async def _view(workers: httpx.AsyncClient, task_id: str) -> dict[str, Any]:
    answer = await workers.get(f"/v1/tasks/{task_id}")
    assert answer.status_code == 200, answer.text
    view: dict[str, Any] = answer.json()
    return view


async def _poll(workers: httpx.AsyncClient, **query: Any) -> dict[str, Any]:
    answer = await workers.get("/v1/tasks", params=query)
    assert answer.status_code == 200, answer.text
    page: dict[str, Any] = answer.json()
    return page


async def _trail(provider: Running, task_id: str) -> list[audit.Entry]:
    trail = provider.bootstrap.SERVICE.trail
    return await provider.service.db.run(
        lambda conn: trail.entries(conn, audit.Filter(subject=task_id))
    )


# --- what changed since -----------------------------------------------------------


async def test_polling_page_by_page_misses_no_task_and_repeats_only_one_changed_meanwhile(
    provider: Running, workers: httpx.AsyncClient
) -> None:
    await provider.seed(places=3)
    await provider.send(*(provider.requested(t) for t in "abcde"))
    await provider.latest()

    first = await _poll(workers, limit=2)
    # A task of the first page changes before the next page is read.
    (changed, *_) = first["tasks"]
    action = "arrived" if changed["status"] == "accepted" else "decline"
    moved = await workers.post(f"/v1/tasks/{changed['task_id']}/{action}", json={"by": "client"})
    assert moved.status_code == 200, moved.text
    pages, cursor = [first], first["next_cursor"]
    while pages[-1]["more"]:
        pages.append(await _poll(workers, limit=2, cursor=cursor))
        cursor = pages[-1]["next_cursor"]

    seen = [(task["task_id"], task["revision"]) for page in pages for task in page["tasks"]]
    assert all(len(page["tasks"]) <= 2 for page in pages)
    assert sorted({task_id for task_id, _ in seen}) == list("abcde")
    # Only the task changed meanwhile shows twice, newer the second time.
    again = [revision for task_id, revision in seen if task_id == changed["task_id"]]
    assert len(seen) == 6 and again == sorted(again) and again[0] < again[1]
    times = [task["updated_at"] for page in pages for task in page["tasks"]]
    assert times == sorted(times)
    # Nothing changed since the last page: polling again from its cursor finds nothing.
    quiet = await _poll(workers, cursor=cursor)
    assert (quiet["tasks"], quiet["more"], quiet["next_cursor"]) == ([], False, cursor)


async def test_updated_after_and_status_list_only_the_tasks_asked_for(
    provider: Running, workers: httpx.AsyncClient
) -> None:
    await provider.seed(places=2)
    await provider.send(*(provider.requested(t) for t in "ab"))
    await provider.latest()
    everything = await _poll(workers)
    since = max(task["updated_at"] for task in everything["tasks"])

    assert (await workers.post("/v1/tasks/a/arrived")).status_code == 200

    changed = await _poll(workers, updated_after=since)
    in_progress = await _poll(workers, status="in-progress")
    accepted = await _poll(workers, status="accepted")
    assert [t["task_id"] for t in changed["tasks"]] == ["a"]
    assert [t["task_id"] for t in in_progress["tasks"]] == ["a"]
    assert [t["task_id"] for t in accepted["tasks"]] == ["b"]
    # What a task's own view shows, and nothing of the person.
    (listed,) = changed["tasks"]
    own = await _view(workers, "a")
    assert listed == {key: value for key, value in own.items() if key != "history"}
    assert {"task_id", "referral_id", "status", "reason", "updated_at", "revision"} <= set(listed)
    assert not {"sex", "age_years", "languages", "is_child", "region"} & set(listed)


async def test_a_cursor_or_a_query_not_made_by_this_api_is_refused_naming_it(
    provider: Running, workers: httpx.AsyncClient
) -> None:
    made_up = await workers.get("/v1/tasks", params={"cursor": "not-a-cursor"})
    naive = await workers.get("/v1/tasks", params={"updated_after": "2026-03-02T10:00:00"})
    too_many = await workers.get("/v1/tasks", params={"limit": 201})
    unknown = await workers.get("/v1/tasks", params={"status": "lost"})

    assert (made_up.status_code, made_up.json()["title"]) == (400, "Invalid cursor")
    assert [answer.status_code for answer in (naive, too_many, unknown)] == [422, 422, 422]


# --- what a case worker does ------------------------------------------------------


async def test_a_person_who_arrives_is_in_progress_then_completed_and_each_step_is_told(
    provider: Running, workers: httpx.AsyncClient
) -> None:
    await provider.seed(places=1)
    await provider.send(provider.requested("a"))
    accepted = (await provider.latest())["a"]

    arrived = await workers.post("/v1/tasks/a/arrived")
    twice = await workers.post("/v1/tasks/a/arrived")
    told = (await provider.latest())["a"]
    completed = await workers.post("/v1/tasks/a/complete", json={"outcome": "goal_achieved"})
    last = (await provider.latest())["a"]

    assert (arrived.status_code, arrived.json()["status"]) == (200, "in-progress")
    assert (twice.status_code, twice.json()["status_now"]) == (409, "in-progress")
    # The agency still reads where the person is, as the place's answer said.
    assert (told.status, told.revision, told.detail) == ("in-progress", 2, accepted.detail)
    assert completed.status_code == 200
    assert (last.status, last.revision, last.detail["outcome"]) == ("completed", 3, "goal_achieved")
    actions = [entry.action for entry in await _trail(provider, "a")]
    assert actions == [
        provider_access.TASK_ARRIVED,
        provider_access.TASK_ACTION_REFUSED,
        provider_access.TASK_COMPLETED,
    ]
    history = (await _view(workers, "a"))["history"]
    assert [(step["status"], step["revision"]) for step in history] == [
        ("accepted", 1),
        ("in-progress", 2),
        ("completed", 3),
    ]


async def test_a_person_who_never_came_fails_the_task_and_the_place_goes_to_the_next_waiting(
    provider: Running, workers: httpx.AsyncClient
) -> None:
    await provider.seed(places=1)
    await provider.send(*(provider.requested(t) for t in "abc"))
    await provider.latest()

    waiting = await workers.post("/v1/tasks/b/not-arrived", json={"reason": "client_unreachable"})
    free_text = await workers.post("/v1/tasks/a/not-arrived", json={"reason": "went home"})
    gone = await workers.post("/v1/tasks/a/not-arrived", json={"reason": "client_unreachable"})
    latest = await provider.latest()

    assert (waiting.status_code, free_text.status_code, gone.status_code) == (409, 422, 200)
    assert (latest["a"].status, latest["a"].reason) == ("failed", "client_unreachable")
    assert latest["b"].status == "accepted"
    assert latest["c"].detail == {"waitlist_position": 1}
    (refused, failed) = await _trail(provider, "b") + await _trail(provider, "a")
    assert (refused.action, refused.detail["attempted"]) == ("task_action_refused", "not-arrived")
    assert (failed.action, failed.detail["reason"]) == ("task_not_arrived", "client_unreachable")


async def test_a_decline_by_the_person_and_one_by_the_provider_are_kept_apart(
    provider: Running, workers: httpx.AsyncClient
) -> None:
    await provider.seed(places=1)
    await provider.send(*(provider.requested(t) for t in "abc"))
    await provider.latest()

    by_person = await workers.post("/v1/tasks/b/decline", json={"by": "client"})
    moved_up = (await provider.latest())["c"]
    by_provider = await workers.post("/v1/tasks/a/decline", json={"by": "provider"})
    latest = await provider.latest()
    assert (await workers.post("/v1/tasks/c/arrived")).status_code == 200
    once_helped = await workers.post("/v1/tasks/c/decline", json={"by": "client"})

    assert (by_person.status_code, by_provider.status_code) == (200, 200)
    assert (latest["b"].status, latest["b"].reason) == ("rejected", "client_declined")
    assert (latest["a"].status, latest["a"].reason) == ("rejected", "provider_declined")
    # Leaving the line moves those behind up; a place given back goes to the next.
    assert moved_up.detail == {"waitlist_position": 1}
    assert latest["c"].status == "accepted"
    # Declining is before the help starts: once in progress, it ends by completing.
    assert once_helped.status_code == 409
    assert "accepted, on-hold" in once_helped.json()["detail"]


async def test_a_transfer_moves_the_person_and_the_old_place_is_free_again(
    provider: Running, workers: httpx.AsyncClient
) -> None:
    await provider.seed(places=1, name="Baku")
    await provider.seed(places=1, name="Baku annex")
    await provider.send(provider.requested("a"))
    before = (await provider.latest())["a"]
    there = "Baku" if "Baku" in before.detail.values() else "Baku annex"
    elsewhere = "Baku annex" if there == "Baku" else "Baku"

    unknown = await workers.post("/v1/tasks/a/transfer", json={"to": "Ganja"})
    same = await workers.post("/v1/tasks/a/transfer", json={"to": there})
    moved = await workers.post("/v1/tasks/a/transfer", json={"to": elsewhere})
    after = (await provider.latest())["a"]
    await provider.send(provider.requested("b"))
    latest = await provider.latest()
    full = await workers.post("/v1/tasks/a/transfer", json={"to": there})

    assert [unknown.json()["refused"], same.json()["refused"]] == ["unknown_entry", "same_entry"]
    assert moved.status_code == 200
    # The status stays; what was given is the new entry, told with a newer revision.
    assert (after.status, after.revision) == ("accepted", 2)
    assert elsewhere in after.detail.values() and there not in after.detail.values()
    # The old place went to the next person asking.
    assert latest["b"].status == "accepted" and there in latest["b"].detail.values()
    assert (full.status_code, full.json()["refused"]) == (409, "no_room")
    assert [entry.action for entry in await _trail(provider, "a")][2] == "task_transferred"


async def test_moving_a_woman_frees_the_accessible_bed_for_the_disabled_woman_waiting_for_it(
    redis_db: str, database_url: str
) -> None:
    # The shelter's own rules decide where a transfer may go: never a men's house, and
    # the accessible bed given back goes to the woman who can sleep nowhere else.
    shelter = await started("shelter", redis_db, database_url)
    house = {"region": "Baku", "serves": ["women"], "beds": 1}
    try:
        await shelter.service.db.run(
            lambda conn: shelter.bootstrap.SERVICE.load(
                conn, [{"name": "Accessible house", **house, "accessible": True}]
            )
        )
        await shelter.send(
            shelter.requested("a"), shelter.requested("b").model_copy(update={"disability": True})
        )
        await shelter.latest()
        more = [
            {"name": "Baku men's house", **house, "serves": ["men"]},
            {"name": "Baku women's house", **house},
        ]
        await shelter.service.db.run(lambda conn: shelter.bootstrap.SERVICE.load(conn, more))
        key = await provider_keys.new_key(shelter.service, catalog.keyring("shelter"))
        async with shelter.client() as client:
            client.headers.update(provider_keys.bearer(key))
            to_men = await client.post("/v1/tasks/a/transfer", json={"to": "Baku men's house"})
            waiting = (await shelter.latest())["b"]
            moved = await client.post("/v1/tasks/a/transfer", json={"to": "Baku women's house"})
        latest = await shelter.latest()
    finally:
        await shelter.service.stop()

    assert (to_men.status_code, to_men.json()["refused"]) == (409, "not_suited")
    # The women's house without access came after her, and is no place for her.
    assert waiting.status == "on-hold"
    assert moved.json()["facility"]["name"] == "Baku women's house"
    assert (latest["b"].status, latest["b"].detail["facility"]) == ("accepted", "Accessible house")
