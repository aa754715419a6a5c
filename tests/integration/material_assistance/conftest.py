"""A started material assistance service for each test, with its case workers' API."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from material_assistance_harness import Assistance

from material_assistance import bootstrap
from support import provider_keys


@pytest.fixture
async def assistance(redis_db: str, database_url: str) -> AsyncIterator[Assistance]:
    settings = bootstrap.Settings(
        redis_url=redis_db,
        database_url=database_url,
        consumer_name="t1",
        # A seed's payments wait in the outbox for the relay's poll: keep it short.
        relay_poll_seconds=0.1,
    )
    app = bootstrap.build_app(settings)
    async with app.router.lifespan_context(app):
        service = app.state.service
        key = await provider_keys.new_key(service, bootstrap.KEYRING)
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app),
            base_url="http://material-assistance",
            headers=provider_keys.bearer(key),
        ) as client:
            yield Assistance(redis_db, service, client)
