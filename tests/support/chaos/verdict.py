"""After the chaos: wait for the system to settle, then check and report what it did."""

from __future__ import annotations

import time
from typing import Any

import redis

from korpu import status
from support.agency import Agency
from support.chaos import checks, ledger, operator
from support.chaos.report import Report

SETTLE_SECONDS = 90.0
QUIET_SECONDS = 45.0


def settle_and_check(
    report: Report,
    agency: Agency,
    submitted: int,
    referral_ids: list[str],
    redis_url: str,
    dead_letters: int = 0,
) -> None:
    """Wait for every referral and every queue, then run every check into `report`."""
    views = _wait_coordinated(report, agency, referral_ids)
    found = _wait_quiet(report, redis_url)
    registry, providers = ledger.read_referral(), checks.provider_ledgers()
    checks.referrals(report, submitted, referral_ids, views, registry.referrals)
    checks.tasks(report, referral_ids, views, registry, providers)
    for provider in providers:
        checks.places(report, provider, len(referral_ids))
    unsent = registry.unpublished + sum(provider.unpublished for provider in providers)
    checks.bus(report, found, dead_letters, unsent)


def _wait_coordinated(report: Report, agency: Agency, referral_ids: list[str]) -> checks.Views:
    """Every referral's view once all are coordinated, or as found at the deadline."""
    started = time.monotonic()
    views: checks.Views = {}
    unsettled = list(dict.fromkeys(referral_ids))
    with agency.client() as client:
        while True:
            for referral_id in unsettled:
                views[referral_id] = agency.view(client, referral_id)
            unsettled = [i for i in unsettled if views[i]["status"] != checks.SETTLED]
            if not unsettled or time.monotonic() - started > SETTLE_SECONDS:
                break
            time.sleep(0.2)
        # A final read of all of them: a referral must not move after it was settled.
        for referral_id in views:
            views[referral_id] = agency.view(client, referral_id)
    report.note(f"referrals settled {time.monotonic() - started:.1f}s after the burst")
    return views


def _wait_quiet(report: Report, redis_url: str) -> dict[str, Any]:
    """`korpu status` once nothing is pending, undelivered or unsent, or at the deadline."""
    started = time.monotonic()
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    try:
        while not (checks.quiet(status.collect(client)) and _outboxes_sent()):
            if time.monotonic() - started > QUIET_SECONDS:
                break
            time.sleep(0.2)
    finally:
        client.close()
    report.note(f"queues quiet {time.monotonic() - started:.1f}s after that")
    return operator.status(redis_url)


def _outboxes_sent() -> bool:
    providers = checks.provider_ledgers()
    return ledger.read_referral().unpublished == 0 and all(p.unpublished == 0 for p in providers)
