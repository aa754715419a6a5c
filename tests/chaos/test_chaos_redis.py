"""Redis lost mid-burst: restarted with its data, or wiped and then `korpu recover`."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from support.agency import Burst
from support.chaos import operator, system, verdict, workload
from support.chaos.report import Report
from support.infra import wait_until
from support.private_redis import PrivateRedis

pytestmark = system.MARKS

BURST = 500
# Referrals the agency hands over while Redis is down: enough to show intake does not stop.
WHILE_DOWN = 60
# At least this long down: long enough for every reader, relay and sweeper to notice.
DOWN_SECONDS = 3.0


def _accepted(burst: Burst, count: int) -> Callable[[], bool]:
    return lambda: burst.accepted >= count


def _answers_between(burst: Burst, start: float, end: float) -> list[str]:
    return [
        attempt.answer
        for submission in burst.submissions
        for attempt in submission.attempts
        if start <= attempt.at <= end
    ]


def test_redis_restarted_mid_burst_intake_keeps_answering_and_services_reconnect(
    own_redis: PrivateRedis, tmp_path: Path, report: Report
) -> None:
    with system.running(tmp_path / "data", own_redis.url) as (_stack, agency):
        burst = Burst(agency, workload.submissions(BURST)).start()
        wait_until(_accepted(burst, BURST // 4), timeout=60, interval=0.01)
        down_at, accepted_at_down = time.monotonic(), burst.accepted
        own_redis.stop()
        report.note(f"Redis stopped after {accepted_at_down} referrals accepted")
        wait_until(
            _accepted(burst, accepted_at_down + WHILE_DOWN),
            timeout=30,
            interval=0.01,
            message="intake stopped answering while Redis was down",
        )
        # The rest of the outage itself, not a wait for a result.
        time.sleep(max(0.0, DOWN_SECONDS - (time.monotonic() - down_at)))
        up_at = time.monotonic()
        answers = _answers_between(burst, down_at, up_at)
        own_redis.start()
        report.note(f"Redis started again with its data after {up_at - down_at:.1f}s")
        report.check(
            len(answers) >= WHILE_DOWN and set(answers) == {"202"},
            f"while Redis was down intake answered {len(answers)} requests, "
            f"all 202: {sorted(set(answers))}",
        )
        referral_ids = burst.join()
        verdict.settle_and_check(report, agency, BURST, referral_ids, own_redis.url)
    assert not report.problems, report.text()


def test_redis_wiped_mid_burst_then_korpu_recover_sends_everything_again(
    own_redis: PrivateRedis, tmp_path: Path, report: Report
) -> None:
    with system.running(tmp_path / "data", own_redis.url) as (_stack, agency):
        # A margin for the clocks of the services' databases, which write the outbox times.
        since = datetime.now(UTC) - timedelta(seconds=1)
        burst = Burst(agency, workload.submissions(BURST)).start()
        wait_until(_accepted(burst, BURST // 2), timeout=60, interval=0.01)
        own_redis.stop()
        own_redis.wipe()
        own_redis.start()
        report.note(f"Redis wiped and started empty after {burst.accepted} referrals accepted")
        recovered = operator.recover(since, own_redis.url)
        events = {name: found["events"] for name, found in recovered["services"].items()}
        # Every service the burst keeps busy wrote events since; a provider it does not
        # ask (medical) had none to send.
        busy = (*workload.NEEDS, "referral")
        report.check(
            set(events) >= set(busy) and all(events[name] > 0 for name in busy),
            f"korpu recover --since <before the burst> marked events to send again: {events}",
        )
        referral_ids = burst.join()
        verdict.settle_and_check(report, agency, BURST, referral_ids, own_redis.url)
    assert not report.problems, report.text()
