"""A psychological service per test, on the test's own Redis and database."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from korpu_runtime.service import Service
from psychological import bootstrap


@pytest.fixture
def settings(redis_db: str, database_url: str) -> bootstrap.Settings:
    # Seeding outside the service's transactions leaves answers only the relay's poll finds.
    return bootstrap.Settings(
        redis_url=redis_db, database_url=database_url, consumer_name="t1", relay_poll_seconds=0.1
    )


@pytest.fixture
async def psychological(settings: bootstrap.Settings) -> AsyncIterator[Service]:
    # pytest resumes the generator after the test whatever its outcome: no try/finally.
    service = bootstrap.build_service(settings)
    await service.start()
    yield service
    await service.stop()
