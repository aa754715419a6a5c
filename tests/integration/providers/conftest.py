"""Every provider service, started on the test's own Redis and database."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator

import pytest
from providers_harness import PROVIDERS, Running, started

# The day a provider with a clock (medical's open days) reads as today throughout a
# test: a run that crosses midnight would otherwise open a day in the middle of one.
TODAY = dt.date(2026, 3, 2)


@pytest.fixture(params=sorted(PROVIDERS))
async def provider(
    request: pytest.FixtureRequest,
    redis_db: str,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> AsyncIterator[Running]:
    domain = PROVIDERS[request.param][0].SERVICE.provider
    if hasattr(domain, "today"):
        monkeypatch.setattr(domain, "today", lambda: TODAY)
    running = await started(request.param, redis_db, database_url)
    try:
        yield running
    finally:
        await running.service.stop()
