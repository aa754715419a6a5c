"""Every provider service, started on the test's own Redis and database."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from providers_harness import PROVIDERS, Running, started


@pytest.fixture(params=sorted(PROVIDERS))
async def provider(
    request: pytest.FixtureRequest, redis_db: str, database_url: str
) -> AsyncIterator[Running]:
    running = await started(request.param, redis_db, database_url)
    try:
        yield running
    finally:
        await running.service.stop()
