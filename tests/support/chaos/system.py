"""The whole system for one chaos scenario: every service a process, quick to retry."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from korpu import catalog
from korpu.supervisor import Stack
from support.agency import Agency
from support.chaos import workload
from support.stack import running_stack

# Retries within a second and at most four apart, so a scenario settles in seconds;
# enough deliveries that a ten-second outage never dead-letters a good entry
# (1 + 2 + 4 + 4 + ... seconds: about a minute and a half for 25).
CLAIM_IDLE_MS = 1_000
BACKOFF_CAP_MS = 4_000
MAX_DELIVERIES = 25


# Every chaos test: slower than any healthy scenario, faster than the sum of the harness's
# own deadlines. The signal method fails the test where it stands, so its fixtures still
# stop the services, Redis and PostgreSQL; pytest-timeout's default (thread) method ends
# the whole run at once and leaves them running.
MARKS = [pytest.mark.chaos, pytest.mark.slow, pytest.mark.timeout(360, method="signal")]


def retry_settings(max_deliveries: int = MAX_DELIVERIES) -> dict[str, str]:
    env = {}
    for service in catalog.SERVICES:
        prefix = service.upper()
        env[f"{prefix}_CLAIM_IDLE_MS"] = str(CLAIM_IDLE_MS)
        env[f"{prefix}_BACKOFF_CAP_MS"] = str(BACKOFF_CAP_MS)
        env[f"{prefix}_MAX_DELIVERIES"] = str(max_deliveries)
    return env


@contextlib.contextmanager
def running(
    data_dir: Path,
    redis_url: str,
    database_urls: dict[str, str] | None = None,
    *,
    replicas: dict[str, int] | None = None,
    max_deliveries: int = MAX_DELIVERIES,
) -> Iterator[tuple[Stack, Agency]]:
    """The stack on the scenario's own Redis (and PostgreSQL), the scarce directory seeded."""
    with running_stack(
        data_dir,
        redis_url,
        workload.DIRECTORY,
        database_urls,
        extra_env=retry_settings(max_deliveries),
        replicas=replicas,
    ) as (stack, client):
        agency = Agency(str(client.base_url), {"Authorization": client.headers["Authorization"]})
        yield stack, agency
