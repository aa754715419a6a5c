"""A started employment service for each test, on the test's own Redis and database."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from employment_harness import Employment, settings


@pytest.fixture
async def employment(redis_db: str, database_url: str) -> AsyncIterator[Employment]:
    service = Employment(settings(redis_db, database_url))
    await service.start()
    try:
        yield service
    finally:
        await service.stop()
