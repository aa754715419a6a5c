"""Every service on one PostgreSQL of the test's own: stopped mid-burst, and shared by replicas."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import redis

from korpu import status
from support.agency import Burst
from support.chaos import operator, system, verdict, workload
from support.chaos.report import Report
from support.infra import wait_until
from support.private_postgres import PausableCluster
from support.private_redis import PrivateRedis

pytestmark = [*system.MARKS, pytest.mark.postgres]

BURST = 300
OUTAGE_SECONDS = 10.0
REPLICAS = 3


def _accepted(burst: Burst, count: int) -> Callable[[], bool]:
    return lambda: burst.accepted >= count


def _pending_now(redis_url: str) -> int:
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    try:
        found = status.collect(client)
    finally:
        client.close()
    return sum(group["pending"] for stream in found["streams"] for group in stream["groups"])


def test_postgresql_stopped_for_ten_seconds_mid_burst_loses_nothing(
    own_redis: PrivateRedis, own_postgres: PausableCluster, tmp_path: Path, report: Report
) -> None:
    databases = own_postgres.service_databases("chaos_outage")
    with system.running(tmp_path / "data", own_redis.url, databases) as (_stack, agency):
        burst = Burst(agency, workload.submissions(BURST)).start()
        wait_until(_accepted(burst, BURST // 3), timeout=60, interval=0.01)
        own_postgres.halt()
        accepted_at_halt = burst.accepted
        report.note(f"PostgreSQL stopped after {accepted_at_halt} referrals accepted")
        # The outage itself, not a wait for a result: the services must ride it out.
        time.sleep(OUTAGE_SECONDS)
        pending = _pending_now(own_redis.url)
        own_postgres.resume()
        report.note(
            f"PostgreSQL started again after {OUTAGE_SECONDS:.0f}s; meanwhile "
            f"{burst.accepted - accepted_at_halt} referrals were accepted, "
            f"{pending} entries were pending"
        )
        referral_ids = burst.join()
        report.note(f"the agency sent {burst.retries} requests again (same keys)")
        verdict.settle_and_check(report, agency, BURST, referral_ids, own_redis.url)
    assert not report.problems, report.text()


def _consumers(found: dict[str, Any], group_name: str) -> int:
    return max(
        len(group["consumers"])
        for stream in found["streams"]
        for group in stream["groups"]
        if group["name"] == group_name
    )


def test_three_replicas_of_each_provider_on_one_postgresql_never_allocate_a_place_twice(
    own_redis: PrivateRedis, own_postgres: PausableCluster, tmp_path: Path, report: Report
) -> None:
    databases = own_postgres.service_databases("chaos_replicas")
    replicas = dict.fromkeys(workload.NEEDS, REPLICAS)
    with system.running(tmp_path / "data", own_redis.url, databases, replicas=replicas) as (
        stack,
        agency,
    ):
        burst = Burst(agency, workload.submissions(BURST)).start()
        referral_ids = burst.join()
        verdict.settle_and_check(report, agency, BURST, referral_ids, own_redis.url)
        found = operator.status(own_redis.url)
        readers = {name: _consumers(found, name) for name in workload.NEEDS}
        report.check(
            all(count == REPLICAS for count in readers.values())
            and all(len(stack.instances(name)) == REPLICAS for name in workload.NEEDS),
            f"{REPLICAS} processes of each provider, each reading in its group: {readers}",
        )
    assert not report.problems, report.text()
