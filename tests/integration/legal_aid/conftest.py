"""A running legal aid service on a real Redis and a real database."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from korpu_runtime.service import Service
from legal_aid import bootstrap


@pytest.fixture
async def service(redis_db: str, database_url: str) -> AsyncIterator[Service]:
    settings = bootstrap.Settings(redis_url=redis_db, database_url=database_url, consumer_name="t1")
    running = bootstrap.build_service(settings)
    await running.start()
    try:
        yield running
    finally:
        await running.stop()
