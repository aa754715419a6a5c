"""`korpu keys rotate` while the service runs, operator keys from settings, and refused keys."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from korpu_contracts import intake
from korpu_runtime.service import Service
from korpu_runtime.unit_of_work import UnitOfWork
from referral import bootstrap
from referral.adapters import key_store, organizations, sealed_persons, sealing, tables
from referral.adapters.repository import ReferralRepository
from referral.service_layer import coordinator
from support.referrals import ReferralService, referral_body


def _env(database_url: str, **more: str) -> dict[str, str]:
    keep = {k: v for k, v in os.environ.items() if not k.startswith(("REFERRAL_", "KORPU_"))}
    return {**keep, "REFERRAL_DATABASE_URL": database_url, **more}


def _korpu(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "korpu", *args],
        capture_output=True, text=True, env=env, stdin=subprocess.DEVNULL, timeout=120,
        check=False,
    )  # fmt: skip


@pytest.fixture
async def demo_service(
    redis_db: str, database_url: str, tmp_path: Path
) -> AsyncIterator[ReferralService]:
    """A referral service on demo keys it generated into its own data directory."""
    settings = bootstrap.Settings(
        redis_url=redis_db,
        database_url=database_url,
        data_dir=tmp_path,
        consumer_name="rot",
        # Referrals keep coming as fast as they can during the rotation: not the limit's test.
        rate_limit_per_minute=1_000_000,
        rate_limit_burst=1_000_000,
    )
    app = bootstrap.build_app(settings)
    service: Service = app.state.service
    async with app.router.lifespan_context(app):
        organization_id, api_key = await service.db.run(
            lambda conn: organizations.create(conn, "Police anti-trafficking unit")
        )
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://referral") as client:
            yield ReferralService(service, client, api_key, organization_id, api_key, redis_db)


async def _submit(referral_service: ReferralService, given: str) -> str:
    body = referral_body()
    body["person"] = {**body["person"], "given_name": given}
    answer = await referral_service.client.post(
        "/v1/referrals", json=body, headers=referral_service.headers(idempotency=given)
    )
    assert answer.status_code == 202, answer.text
    referral_id: str = answer.json()["id"]
    return referral_id


def _sealed_rows(conn: sa.Connection) -> list[dict[str, Any]]:
    return [dict(row._mapping) for row in conn.execute(sa.select(tables.persons))]


async def test_rotation_seals_every_row_under_the_new_key_while_referrals_keep_coming(
    demo_service: ReferralService, database_url: str, tmp_path: Path
) -> None:
    names = {await _submit(demo_service, f"Before{n}"): f"Before{n}" for n in range(30)}
    old_key = sealing.of_engine(demo_service.service.db.engine).current_id
    rotation = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "korpu", "--data-dir", str(tmp_path), "keys", "rotate", "--json",
        env=_env(database_url), stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    during = 0
    while rotation.returncode is None and during < 2000:
        names[await _submit(demo_service, f"During{during}")] = f"During{during}"
        during += 1
        await asyncio.sleep(0)  # let the subprocess watcher see the exit
    out, err = await asyncio.wait_for(rotation.communicate(), timeout=120)
    assert rotation.returncode == 0, err.decode()
    names[await _submit(demo_service, "After")] = "After"

    result = json.loads(out)
    new_key = json.loads((tmp_path / "keys" / key_store.KEY_FILE).read_text())["data_keys"][0]
    assert result["key_id"] == new_key.partition(":")[0] != old_key
    assert result["re_encrypted"]["persons"] >= 30 and result["remaining"] == 0
    db = demo_service.service.db
    rows = await db.run(_sealed_rows)
    assert len(rows) == len(names) and during > 0
    for row in rows:
        sealed = [row[name] for name in sealed_persons.SEALED if row[name] is not None]
        assert all(value.startswith(result["key_id"] + ":") for value in sealed)
    # The old key is no longer needed: the new one alone opens every person.
    stored = key_store.read_key_file(tmp_path / "keys" / key_store.KEY_FILE)
    only_new = sealing.Keyring(stored.data_keys[:1], stored.index_key)
    assert {row["referral_id"]: sealed_persons.open_row(only_new, row)["given_name"]
            for row in rows} == names  # fmt: skip
    # And the running service reads them, before and during the rotation alike.
    for referral_id, given in list(names.items())[::7]:
        person = await db.run(lambda conn, i=referral_id: ReferralRepository(conn).person(i))
        assert person is not None and person["given_name"] == given

    trail = await db.run(
        lambda conn: conn.execute(
            sa.select(tables.audit_log).where(tables.audit_log.c.action == "keys_rotated")
        ).one()
    )
    assert trail.actor_kind == "operator" and trail.detail["key_id"] == result["key_id"]
    assert trail.detail["persons"] == result["re_encrypted"]["persons"]


def test_an_operator_rotates_to_a_key_put_first_in_the_settings(
    database_url: str, tmp_path: Path
) -> None:
    generated = _korpu("keys", "generate", env=_env(database_url))
    index = _korpu("keys", "generate", "--blind-index", env=_env(database_url)).stdout.strip()
    old, new = sealing.DataKey.generate().line(), generated.stdout.strip()
    assert generated.returncode == 0 and new.startswith("k") and ":" in new
    production = {"KORPU_ENV": "production", "REFERRAL_BLIND_INDEX_KEY": index}
    settings = bootstrap.Settings(
        env="production", database_url=database_url, data_dir=tmp_path, data_keys=old,
        blind_index_key=index,
    )  # fmt: skip
    database = bootstrap.database(settings)
    try:
        database.create_schema(tables.metadata)
        organization_id, _ = database.transaction(lambda conn: organizations.create(conn, "P"))
        request = intake.ReferralRequest.model_validate(referral_body())
        for n in range(3):
            database.transaction(
                lambda conn, n=n: coordinator.submit(
                    UnitOfWork(conn, tables.outbox, tables.inbox),
                    organization_id,
                    f"k{n}",
                    "h",
                    request,
                )
            )
    finally:
        database.close()

    env = _env(database_url, **production, REFERRAL_DATA_KEYS=f"{new},{old}")
    rotated = _korpu("--data-dir", str(tmp_path), "keys", "rotate", env=env)
    assert rotated.returncode == 0, rotated.stderr
    new_id = new.partition(":")[0]
    assert f"Re-encrypted under key {new_id}: 3 persons" in rotated.stdout
    assert new.partition(":")[2] not in rotated.stdout + rotated.stderr  # never a key
    assert not (tmp_path / "keys" / key_store.KEY_FILE).exists()  # settings' keys, no demo file

    only_new = bootstrap.Settings(
        env="production", database_url=database_url, data_dir=tmp_path, data_keys=new,
        blind_index_key=index,
    )  # fmt: skip
    database = bootstrap.database(only_new)
    try:
        people = database.transaction(
            lambda conn: [
                ReferralRepository(conn).person(row.referral_id)
                for row in conn.execute(sa.select(tables.persons.c.referral_id))
            ]
        )
    finally:
        database.close()
    assert [person["given_name"] for person in people if person] == ["Aysel"] * 3


@pytest.mark.parametrize(
    ("keys", "told"),
    [
        pytest.param({}, "REFERRAL_DATA_KEYS is not set", id="missing"),
        pytest.param({"REFERRAL_DATA_KEYS": "change-me"}, "placeholder", id="placeholder"),
        pytest.param(
            {"REFERRAL_DATA_KEYS": "k1:changethis", "REFERRAL_BLIND_INDEX_KEY": "x"},
            "placeholder",
            id="placeholder-with-id",
        ),
    ],
)
def test_outside_demo_mode_the_referral_service_will_not_start_on_a_missing_or_placeholder_key(
    tmp_path: Path, keys: dict[str, str], told: str
) -> None:
    env = _env(f"sqlite:///{tmp_path / 'referral.db'}", KORPU_ENV="production", **keys)
    refused = _korpu("--data-dir", str(tmp_path), "serve", "referral", env=env)
    assert refused.returncode == 2
    assert "korpu serve referral: " in refused.stderr and told in refused.stderr
    assert "Traceback" not in refused.stderr and "changethis" not in refused.stderr
    assert not (tmp_path / "referral.db").exists()


def test_rotate_refuses_placeholder_keys_too(tmp_path: Path) -> None:
    env = _env(f"sqlite:///{tmp_path / 'r.db'}", KORPU_ENV="production")
    refused = _korpu("keys", "rotate", env={**env, "REFERRAL_DATA_KEYS": "change-me"})
    assert refused.returncode == 1 and "placeholder" in refused.stderr
