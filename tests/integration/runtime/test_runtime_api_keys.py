"""The one key design every service uses, on its own tables: a key's own rate limit,
looked up by the key's hash as a rate limiter will, and a principal that names no key."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
import sqlalchemy as sa

from korpu_runtime import api_keys
from korpu_runtime import database as runtime_database
from korpu_runtime.database import Database
from korpu_runtime.ratelimit import RaisedLimits
from korpu_runtime.service import Service
from shelter import bootstrap as shelter_bootstrap
from support.infra import wait_for


def database_schema(conn: sa.Connection, service: Service) -> None:
    runtime_database.create_schema(conn, service.metadata)


metadata = sa.MetaData()
keyring = api_keys.Keyring(
    api_keys.add_tables(metadata),
    scopes=("calls:make", "calls:read"),
    default_scopes=("calls:read",),
)


@pytest.fixture
def database(database_url: str) -> Iterator[Database]:
    opened = Database(database_url)
    opened.create_schema(metadata)
    yield opened
    opened.close()


def test_a_hotlines_key_gets_its_own_rate_and_goes_back_to_the_default(
    database: Database,
) -> None:
    _, hotline = database.transaction(lambda conn: keyring.create_organization(conn, "Hotline"))
    digest = api_keys.hash_key(hotline)
    [key] = database.transaction(
        lambda conn: [k for o in keyring.organizations(conn) for k in keyring.keys(conn, o.id)]
    )
    assert database.transaction(lambda conn: keyring.raised_limits(conn).get(digest)) is None

    raised = database.transaction(lambda conn: keyring.set_rate(conn, key.id, 600))
    assert raised is not None and raised.rate_per_minute == 600
    assert database.transaction(lambda conn: keyring.raised_limits(conn).get(digest)) == 600
    database.transaction(lambda conn: keyring.set_rate(conn, key.id, 1200))
    assert database.transaction(lambda conn: keyring.raised_limits(conn).get(digest)) == 1200

    back = database.transaction(lambda conn: keyring.set_rate(conn, key.id, None))
    assert back is not None and back.rate_per_minute is None
    assert database.transaction(lambda conn: keyring.raised_limits(conn).get(digest)) is None


def test_no_limit_is_told_for_a_revoked_or_unknown_key_and_none_set_below_one(
    database: Database,
) -> None:
    _, api_key = database.transaction(lambda conn: keyring.create_organization(conn, "NGO"))
    principal = database.transaction(lambda conn: keyring.authenticate(conn, api_key))
    assert principal is not None
    key_id = principal.actor_id
    database.transaction(lambda conn: keyring.set_rate(conn, key_id, 60))
    database.transaction(lambda conn: keyring.revoke(conn, key_id, "left"))

    digest = api_keys.hash_key(api_key)
    assert database.transaction(lambda conn: keyring.raised_limits(conn).get(digest)) is None
    unknown = api_keys.hash_key("korpu_not-a-key")
    assert database.transaction(lambda conn: keyring.raised_limits(conn).get(unknown)) is None
    assert database.transaction(lambda conn: keyring.set_rate(conn, "no-such-key", 60)) is None
    with pytest.raises(ValueError, match="at least 1"):
        database.transaction(lambda conn: keyring.set_rate(conn, key_id, 0))


def test_a_principal_names_its_organization_scopes_and_actor_never_the_key(
    database: Database,
) -> None:
    organization_id, api_key = database.transaction(
        lambda conn: keyring.create_organization(conn, "Police unit")
    )
    principal = database.transaction(lambda conn: keyring.authenticate(conn, api_key))
    assert principal is not None
    assert principal.organization_id == organization_id
    assert principal.scopes == frozenset({"calls:read"})
    assert principal.actor_kind == api_keys.API_KEY
    assert api_key not in repr(principal) and api_keys.hash_key(api_key) not in repr(principal)


async def test_a_raised_limit_lets_a_busy_key_past_the_default_and_no_other(
    redis_db: str, database_url: str
) -> None:
    """Through the real middleware: the service reads the raised limits at its start."""
    settings = shelter_bootstrap.Settings(
        redis_url=redis_db,
        database_url=database_url,
        rate_limit_per_minute=1,
        rate_limit_burst=3,
    )
    app = shelter_bootstrap.build_app(settings)
    service = app.state.service
    keys = shelter_bootstrap.KEYRING
    await service.db.run(lambda conn: database_schema(conn, service))
    _, busy = await service.db.run(lambda conn: keys.create_organization(conn, "Hotline"))
    _, quiet = await service.db.run(lambda conn: keys.create_organization(conn, "NGO"))
    busy_key = await service.db.run(lambda conn: keys.authenticate(conn, busy))
    assert busy_key is not None
    await service.db.run(lambda conn: keys.set_rate(conn, busy_key.actor_id, 600))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://shelter") as client:

            async def statuses(key: str) -> list[int]:
                headers = {"Authorization": f"Bearer {key}"}
                answers = [await client.get("/v1/facilities", headers=headers) for _ in range(8)]
                return [answer.status_code for answer in answers]

            [raised] = [part for part in service.parts if isinstance(part, RaisedLimits)]

            async def raised_read() -> bool:
                return bool(raised.limits)

            await wait_for(raised_read, message="the raised limits were not read at the start")
            assert await statuses(busy) == [200] * 8
            assert (await statuses(quiet))[3:] == [429] * 5
