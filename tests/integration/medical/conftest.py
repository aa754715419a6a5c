"""A running medical service on a real Redis and a real database, with a clock the test sets."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from medical_helpers import Clock

from korpu_provider.bootstrap import Entrypoints
from korpu_runtime.service import Service
from korpu_runtime.settings import ServiceSettings
from medical.provider import Medical


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def kit(clock: Clock) -> Entrypoints:
    """The medical service as its bootstrap builds it, but on the test's clock."""
    return Entrypoints(Medical(today=clock))


@pytest.fixture
def settings(kit: Entrypoints, redis_db: str, database_url: str) -> ServiceSettings:
    # A seed writes to the outbox outside a service transaction: keep the relay's poll short.
    return kit.settings(
        redis_url=redis_db, database_url=database_url, consumer_name="t1", relay_poll_seconds=0.1
    )


@pytest.fixture
async def service(kit: Entrypoints, settings: ServiceSettings) -> AsyncIterator[Service]:
    running = kit.build_service(settings)
    await running.start()
    try:
        yield running
    finally:
        await running.stop()
