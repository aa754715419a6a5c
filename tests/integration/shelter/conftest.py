"""A running shelter service on the test's own Redis database and SQL database."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import shelter_harness


@pytest.fixture
async def shelter(redis_db: str, database_url: str) -> AsyncIterator[shelter_harness.Shelter]:
    running = await shelter_harness.started(redis_db, database_url)
    try:
        yield running
    finally:
        await running.service.stop()
