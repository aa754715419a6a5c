"""Services dying mid-burst, each in turn: nothing lost, nothing done twice, nothing half-done."""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Callable
from pathlib import Path

import redis

from korpu import catalog
from korpu.supervisor import ServiceProcess, Stack
from korpu_contracts import streams
from support.agency import Burst
from support.chaos import system, verdict, workload
from support.chaos.report import Report
from support.infra import wait_until
from support.private_redis import PrivateRedis

pytestmark = system.MARKS

BURST = 500
RESTART_SECONDS = 60.0
# Longer than the service's own bounds on the steps of its stop: a stop that needs more hangs.
GRACEFUL_STOP_SECONDS = 30.0
# What the runtime logs when its graceful stop is done, or when a step of it was cut short.
STOPPED = "service_stopped"
STOP_TIMED_OUT = "stop_step_timed_out"

# What is done to one service on its turn; returns the process it hit.
Blow = Callable[[ServiceProcess, Report], subprocess.Popen[bytes]]


def _accepted(burst: Burst, count: int) -> Callable[[], bool]:
    return lambda: burst.accepted >= count


def _running_again(process: ServiceProcess, old: subprocess.Popen[bytes]) -> Callable[[], bool]:
    def check() -> bool:
        current = process.process
        return current is not None and current is not old and process.ready()

    return check


def _each_service_in_turn(
    stack: Stack, agency_burst: Burst, report: Report, blow: Blow, what: str
) -> list[str]:
    """One blow per service, spread evenly over the burst; the referral service last."""
    hit: dict[str, subprocess.Popen[bytes]] = {}
    turns = len(catalog.SERVICES) + 1  # the last blow well before the burst ends
    for turn, name in enumerate(catalog.SERVICES, start=1):
        wait_until(
            _accepted(agency_burst, turn * BURST // turns),
            timeout=90,
            interval=0.01,
            message=f"the burst stalled before {name}'s turn",
        )
        report.note(f"{what} {name} after {agency_burst.accepted} referrals accepted")
        hit[name] = blow(stack.processes[name], report)
    referral_ids = agency_burst.join()
    report.note(f"the agency sent {agency_burst.retries} requests again (same keys)")
    for name, old in hit.items():
        wait_until(
            _running_again(stack.processes[name], old),
            timeout=RESTART_SECONDS,
            interval=0.2,
            message=f"{name} was not restarted",
        )
    restarts = {name: stack.processes[name].restarts for name in hit}
    report.check(
        all(count == 1 for count in restarts.values()),
        f"every service stopped once and restarted by the supervisor: {restarts}",
    )
    return referral_ids


def _kill_9(process: ServiceProcess, report: Report) -> subprocess.Popen[bytes]:
    running = process.process
    assert running is not None
    os.kill(running.pid, signal.SIGKILL)
    return running


def _sigterm(redis_url: str) -> Blow:
    """SIGTERM, then: did it stop gracefully, in time, holding nothing it had read?"""

    def blow(process: ServiceProcess, report: Report) -> subprocess.Popen[bytes]:
        running = process.process
        assert running is not None
        stops_before = _logged(process, STOPPED)
        os.kill(running.pid, signal.SIGTERM)
        try:
            running.wait(timeout=GRACEFUL_STOP_SECONDS)
        except subprocess.TimeoutExpired:
            report.check(False, f"{process.name} still running {GRACEFUL_STOP_SECONDS}s on")
            return running
        # Looked at before the supervisor's restart can reclaim anything it left.
        left = _pending_of(redis_url, f"-{running.pid}-")
        graceful = _logged(process, STOPPED) == stops_before + 1
        cut_short = _logged(process, STOP_TIMED_OUT)
        report.check(
            graceful and not cut_short and not left,
            f"{process.name} stopped gracefully: {graceful}, a stop step timed out: "
            f"{bool(cut_short)}, entries it had read left unfinished: {len(left)} {left[:3]}",
        )
        return running

    return blow


def _logged(process: ServiceProcess, event: str) -> int:
    """How often the service logged `event` (its log is kept across restarts)."""
    return process.log_path.read_text(errors="replace").count(f'"{event}"')


def _pending_of(redis_url: str, name_part: str) -> list[str]:
    """Entries still pending for the consumers whose name contains `name_part` (the pid)."""
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    try:
        found = []
        for stream in filter(client.exists, streams.ALL):
            for group in client.xinfo_groups(stream):
                for consumer in client.xinfo_consumers(stream, group["name"]):
                    if name_part in consumer["name"] and consumer["pending"]:
                        entries = client.xpending_range(
                            stream, group["name"], "-", "+", 100, consumername=consumer["name"]
                        )
                        found += [stream + " " + str(e["message_id"]) for e in entries]
        return found
    finally:
        client.close()


def test_kill_9_of_each_service_in_turn_during_a_burst_of_500(
    own_redis: PrivateRedis, tmp_path: Path, report: Report
) -> None:
    with system.running(tmp_path / "data", own_redis.url) as (stack, agency):
        burst = Burst(agency, workload.submissions(BURST)).start()
        referral_ids = _each_service_in_turn(stack, burst, report, _kill_9, "kill -9")
        verdict.settle_and_check(report, agency, BURST, referral_ids, own_redis.url)
    assert not report.problems, report.text()


def test_sigterm_of_each_service_in_turn_during_a_burst_lets_in_flight_work_finish(
    own_redis: PrivateRedis, tmp_path: Path, report: Report
) -> None:
    with system.running(tmp_path / "data", own_redis.url) as (stack, agency):
        burst = Burst(agency, workload.submissions(BURST)).start()
        referral_ids = _each_service_in_turn(
            stack, burst, report, _sigterm(own_redis.url), "SIGTERM"
        )
        verdict.settle_and_check(report, agency, BURST, referral_ids, own_redis.url)
    assert not report.problems, report.text()
