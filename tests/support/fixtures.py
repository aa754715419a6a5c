"""Fixtures shared by integration and security tests: a running referral service on a real Redis
and database. A conftest imports the ones its tests use."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from korpu_runtime.service import Service
from referral import bootstrap
from referral.adapters import bus_keys, organizations
from support.referrals import ReferralService


@pytest.fixture
async def referral_service(redis_db: str, database_url: str) -> AsyncIterator[ReferralService]:
    settings = bootstrap.Settings(
        redis_url=redis_db,
        database_url=database_url,
        consumer_name="referral-test",
        # One key sends hundreds of requests in a test (the fuzz): the limit has its own tests.
        rate_limit_per_minute=1_000_000,
        rate_limit_burst=1_000_000,
    )
    app = bootstrap.build_app(settings)
    service: Service = app.state.service
    async with app.router.lifespan_context(app):
        organization_id, api_key = await service.db.run(
            lambda conn: organizations.create(conn, "Police anti-trafficking unit")
        )
        _, other_key = await service.db.run(lambda conn: organizations.create(conn, "Other NGO"))
        bus_key = await service.db.run(lambda conn: bus_keys.create(conn, organization_id))
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://referral") as client:
            yield ReferralService(
                service, client, api_key, organization_id, other_key, redis_db, bus_key
            )
