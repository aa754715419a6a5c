"""A shelter's case workers act on their task, and the referring agency reads each step."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

from support.infra import wait_until
from support.referrals import referral_body
from support.stack import case_workers, running_stack

pytestmark = pytest.mark.slow

DIRECTORY: dict[str, list[dict[str, Any]]] = {
    "shelters": [{"name": "Baku Assistance Center", "region": "Baku", "serves": ["women"],
                  "beds": 1}],
}  # fmt: skip


def _shelter(agency: httpx.Client, referral_id: str) -> dict[str, Any]:
    view: dict[str, Any] = agency.get(f"/v1/referrals/{referral_id}").json()
    return view


def test_the_agency_reads_the_person_arrived_then_the_stay_completed(
    spare_redis_url: str, tmp_path: Path
) -> None:
    with running_stack(tmp_path, spare_redis_url, DIRECTORY) as (stack, agency):
        body = referral_body(needs=["shelter"], consent={"shelter": "granted"})
        answer = agency.post(
            "/v1/referrals", json=body, headers={"Idempotency-Key": str(uuid.uuid4())}
        )
        referral_id = answer.json()["id"]

        def shelter_status() -> str:
            status: str = _shelter(agency, referral_id)["services"]["shelter"]["status"]
            return status

        wait_until(lambda: shelter_status() == "accepted", timeout=20, message="never placed")
        with case_workers(stack, "shelter") as workers:
            (task,) = [
                t for t in workers.get("/v1/tasks").json()["tasks"]
                if t["referral_id"] == referral_id
            ]  # fmt: skip
            assert workers.post(f"/v1/tasks/{task['task_id']}/arrived").status_code == 200
            wait_until(lambda: shelter_status() == "in-progress", timeout=20,
                       message="the agency never read in-progress")  # fmt: skip
            done = workers.post(
                f"/v1/tasks/{task['task_id']}/complete", json={"outcome": "goal_achieved"}
            )
            assert done.status_code == 200
            wait_until(lambda: shelter_status() == "completed", timeout=20,
                       message="the agency never read completed")  # fmt: skip
        view = _shelter(agency, referral_id)

    steps = [step["status"] for step in view["history"] if step["service"] == "shelter"]
    assert steps[-3:] == ["accepted", "in-progress", "completed"]
    assert view["services"]["shelter"]["detail"]["outcome"] == "goal_achieved"
