"""Every provider's capacity by region (`GET /v1/capacity`), for the operators' console.

Run against each provider: who may read it (a key of this provider reading its
directory, the console's own key among them), and that its counts follow the
directory and the people placed and waiting, naming no one.
"""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from providers_harness import Running

from korpu import catalog, console_keys
from korpu_contracts import regions
from korpu_runtime import provider_access
from korpu_runtime.database import Database
from support import provider_keys

BAKU = regions.code_of("Baku")


async def _capacity(client: httpx.AsyncClient, key: str | None) -> httpx.Response:
    headers = provider_keys.bearer(key) if key is not None else {}
    return await client.get("/v1/capacity", headers=headers)


def _key_of_another_provider(name: str, tmp_path: Path) -> str:
    other = next(p for p in catalog.PROVIDERS if p != name)
    url = f"sqlite:///{tmp_path / f'{other}-elsewhere.db'}"
    keyring = catalog.keyring(other)
    metadata = catalog.bootstrap(other).METADATA
    return Database.once(url, metadata, lambda c: keyring.create_organization(c, "Them"))[1]


async def test_only_a_key_of_this_provider_that_reads_its_directory_sees_its_capacity(
    provider: Running, tmp_path: Path
) -> None:
    keyring = catalog.keyring(provider.name)
    acting = [provider_access.TASKS_READ, provider_access.TASKS_ACT]
    without_directory = await provider_keys.new_key(provider.service, keyring, scopes=acting)
    directory_only = [provider_access.DIRECTORY_READ]
    reader = await provider_keys.new_key(provider.service, keyring, "Others", directory_only)

    async with provider.client() as client:
        nobody = await _capacity(client, None)
        stranger = await _capacity(client, _key_of_another_provider(provider.name, tmp_path))
        lacking = await _capacity(client, without_directory)
        allowed = await _capacity(client, reader)

    assert (nobody.status_code, nobody.headers["www-authenticate"]) == (401, "Bearer")
    # Another provider's key is unknown here, as an agency's is: 401, never 403.
    assert stranger.status_code == 401
    assert (lacking.status_code, lacking.json()["missing_scope"]) == (403, "directory:read")
    assert allowed.status_code == 200
    unit = provider.bootstrap.SERVICE.provider.place_unit  # docs/capacity.md
    assert allowed.json() == {"service": provider.name, "unit": unit, "regions": []}


async def test_the_consoles_own_key_reads_the_capacity(
    provider: Running, database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The console's key made as `korpu console keys` makes it, in this provider's database.
    monkeypatch.setenv(f"{provider.name.upper()}_DATABASE_URL", database_url)
    held = console_keys.reconcile(tmp_path / "keys", [provider.name])

    async with provider.client() as client:
        answer = await _capacity(client, held[provider.name].api_key)
        task = await client.get(
            "/v1/tasks/any", headers=provider_keys.bearer(held[provider.name].api_key)
        )

    assert answer.status_code == 200
    # It reads counts, never a task.
    assert (task.status_code, task.json()["missing_scope"]) == (403, "tasks:read")


async def test_capacity_counts_places_taken_free_and_people_waiting_and_names_no_one(
    provider: Running,
) -> None:
    reader = await provider_keys.new_key(provider.service, catalog.keyring(provider.name))
    await provider.seed(places=2)
    async with provider.client() as client:
        empty = (await _capacity(client, reader)).json()["regions"]
        await provider.send(*(provider.requested(t) for t in ("task-1f7a", "task-2c9e")))
        await provider.send(provider.requested("task-3b4d"))
        await provider.settled()
        full = await _capacity(client, reader)
        await provider.complete("task-1f7a")
        await provider.settled()
        after = (await _capacity(client, reader)).json()["regions"]

    counts = {"region": BAKU, "capacity": 2}
    assert empty == [{**counts, "taken": 0, "free": 2, "waiting": 0}]
    assert full.json()["regions"] == [{**counts, "taken": 2, "free": 0, "waiting": 1}]
    # A bed, seat or case ended goes to the one waiting; an examination held or an
    # allowance paid is spent (`Provider.completion_frees`).
    frees = provider.bootstrap.SERVICE.provider.completion_frees
    assert after == [{**counts, "taken": 2, "free": 0, "waiting": 0 if frees else 1}]
    for named in ("task-", "referral-", "Baku"):
        assert named not in full.text
