"""Redis loses its data mid-flight: `korpu recover` sends again what the services had written."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis

from korpu_contracts import streams
from support import bus
from support.infra import wait_until
from support.referrals import referral_body
from support.stack import case_workers, running_stack

pytestmark = pytest.mark.slow

DIRECTORY: dict[str, list[dict[str, Any]]] = {
    "shelters": [{"name": "Baku Assistance Center", "region": "Baku", "serves": ["women"],
                  "beds": 10}],
}  # fmt: skip


def _submit(agency: httpx.Client) -> str:
    body = referral_body(needs=["shelter"], consent={"shelter": "granted"})
    # Another person each time: the same one again, while open, is a linked duplicate.
    body["person"] = {**body["person"], "given_name": f"Aysel{uuid.uuid4().hex[:6]}"}
    answer = agency.post("/v1/referrals", json=body, headers={"Idempotency-Key": str(uuid.uuid4())})
    assert answer.status_code == 202, answer.text
    referral_id: str = answer.json()["id"]
    return referral_id


def _shelter_status(agency: httpx.Client, referral_id: str) -> str:
    view = agency.get(f"/v1/referrals/{referral_id}").json()
    status: str = view["services"]["shelter"]["status"]
    return status


def _recover(since: datetime, data_dir: Path, redis_url: str) -> dict[str, Any]:
    env = {**os.environ, "KORPU_DATA_DIR": str(data_dir), "REDIS_URL": redis_url}
    done = subprocess.run(
        [sys.executable, "-m", "korpu", "recover", "--since", since.isoformat(), "--json"],
        env=env, capture_output=True, text=True, timeout=60, check=False, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def test_requests_lost_in_a_wipe_are_sent_again_by_recover_and_nothing_is_given_twice(
    spare_redis_url: str, tmp_path: Path
) -> None:
    client = redis.Redis.from_url(spare_redis_url)
    since = datetime.now(UTC)
    with running_stack(tmp_path, spare_redis_url, DIRECTORY) as (stack, agency):
        placed_before = _submit(agency)
        wait_until(lambda: _shelter_status(agency, placed_before) == "accepted", timeout=10,
                   message="first referral not placed")  # fmt: skip

        # The shelter is frozen (not dead: nobody restarts it), so its request waits in Redis...
        shelter = stack.processes["shelter"].process
        assert shelter is not None
        os.kill(shelter.pid, signal.SIGSTOP)
        # Its blocking read over, so Redis hands it nothing more while frozen.
        wait_until(lambda: bus.blocked_reads_of(spare_redis_url, shelter.pid) == 0,
                   message="the frozen shelter still waits in a read")  # fmt: skip
        try:
            lost = _submit(agency)
            wait_until(lambda: client.xlen(streams.SHELTER_REQUESTS) >= 2, timeout=10,
                       message="request never reached Redis")  # fmt: skip
            client.flushdb()  # ...when Redis loses everything.
        finally:
            os.kill(shelter.pid, signal.SIGCONT)

        # A referral after the wipe is placed: the shelter reads again, and had the lost
        # request survived, it would have been answered before this one.
        after = _submit(agency)
        wait_until(lambda: _shelter_status(agency, after) == "accepted", timeout=20,
                   message="the shelter never read again after the wipe")  # fmt: skip
        assert _shelter_status(agency, lost) == "requested"

        result = _recover(since, tmp_path, spare_redis_url)
        assert result["services"]["referral"]["events"] >= 3  # every referral's request

        wait_until(lambda: _shelter_status(agency, lost) == "accepted", timeout=20,
                   message="the lost request was not sent again")  # fmt: skip
        assert _shelter_status(agency, placed_before) == "accepted"
        assert _shelter_status(agency, after) == "accepted"
        with case_workers(stack, "shelter") as shelter_api:
            [facility] = shelter_api.get("/v1/facilities").json()
    # One bed each: the requests sent again of those already placed gave nothing twice.
    assert facility["occupied"] == 3


@pytest.mark.parametrize("since", ["yesterday", "2999-01-01T00:00:00Z", "5 minutes"])
def test_a_time_recover_cannot_read_is_one_line_and_changes_nothing(
    since: str, tmp_path: Path
) -> None:
    env = {**os.environ, "KORPU_DATA_DIR": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, "-m", "korpu", "recover", "--since", since],
        env=env, capture_output=True, text=True, timeout=60, check=False, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and done.stderr.startswith("korpu recover: ")
    assert list(tmp_path.iterdir()) == []  # no database was created on the way
