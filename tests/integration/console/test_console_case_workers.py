"""A case worker in the console: their provider's tasks only, each action told to the agency.

Real processes: the referral service, the shelter and employment services, the console.
Each case worker acts with a key of their own organization (`korpu users create
--role case_worker`), so the provider, not the console, decides what they see and do.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import subprocess
import uuid
from collections.abc import Iterator

import httpx
import pytest

from korpu import seed
from korpu.embedded_redis import free_ports
from support.console import ConsoleProcess, SignedIn, running, serving
from support.infra import wait_until
from support.referrals import referral_body

NAMES = ("referral", "shelter", "employment", "console")
DIRECTORY = {
    "shelters": [{"name": "Sumqayit House", "region": "Sumqayit", "serves": ["women"], "beds": 3}],
    "programs": [{"name": "Tailoring", "region": "Sumqayit", "seats": 2, "languages": ["az"],
                  "min_age": 16}],
}  # fmt: skip


@dataclasses.dataclass(frozen=True)
class System:
    console: ConsoleProcess
    referral: str
    agency_key: str


@pytest.fixture(scope="module")
def system(spare_redis_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[System]:
    folder = tmp_path_factory.mktemp("case-workers")
    ports = free_ports(NAMES)
    urls = {name: f"http://127.0.0.1:{ports[name]}" for name in NAMES if name != "console"}
    env = {
        **os.environ,
        "REDIS_URL": spare_redis_url,
        "KORPU_DATA_DIR": str(folder),
        "CONSOLE_HTTP_PORT": str(ports["console"]),
        "CONSOLE_SERVICE_URLS": json.dumps(urls),
    }
    with contextlib.ExitStack() as stack:
        for name in ("shelter", "employment", "referral"):
            stack.enter_context(serving(name, env, ports[name]))
        console = stack.enter_context(running(env, ports["console"], folder / "console.db"))
        with _environment(env):
            seed.load(DIRECTORY)
        agency = _json(console.korpu("org", "create", "Hotline 152", "--json"))["api_key"]
        yield System(console, urls["referral"], agency)


@contextlib.contextmanager
def _environment(env: dict[str, str]) -> Iterator[None]:
    saved = dict(os.environ)
    os.environ.update(env)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def _json(done: subprocess.CompletedProcess[str]) -> dict[str, str]:
    assert done.returncode == 0, done.stderr
    found: dict[str, str] = json.loads(done.stdout)
    return found


def _case_worker(system: System, name: str, provider: str) -> SignedIn:
    console = system.console
    organization = _json(console.korpu("org", "create", f"{provider} team {name}",
                                       "--provider", provider, "--json"))["org_id"]  # fmt: skip
    made = _json(console.korpu("users", "create", name, "--role", "case_worker",
                               "--provider", provider, "--organization", organization,
                               "--json"))  # fmt: skip
    return console.signed_in(name, made["password"])


def _referral(system: System) -> str:
    body = referral_body(
        agency_reference=f"POL-{uuid.uuid4().hex[:6]}", region="Sumqayit",
        needs=["shelter"], consent={"shelter": "granted"},
    )  # fmt: skip
    answer = httpx.post(
        f"{system.referral}/v1/referrals", json=body, timeout=10,
        headers={"Authorization": f"Bearer {system.agency_key}",
                 "Idempotency-Key": str(uuid.uuid4())},
    )  # fmt: skip
    assert answer.status_code == 202, answer.text
    referral_id: str = answer.json()["id"]
    return referral_id


def _agency_sees(system: System, referral_id: str) -> str:
    view = httpx.get(
        f"{system.referral}/v1/referrals/{referral_id}",
        headers={"Authorization": f"Bearer {system.agency_key}"},
        timeout=10,
    ).json()
    status: str = view["services"]["shelter"]["status"]
    return status


def test_a_case_worker_marks_arrival_then_completes_and_the_agency_sees_each_step(
    system: System,
) -> None:
    worker = _case_worker(system, "nigar", "shelter")
    referral_id = _referral(system)
    wait_until(lambda: _agency_sees(system, referral_id) == "accepted", timeout=30,
               interval=0.3, message="the shelter never placed her")  # fmt: skip
    page = worker.http.get("/tasks").text
    assert "Sumqayit House" in page
    task_id = _task_of(worker, referral_id)
    arrived = worker.post(f"/tasks/{task_id}/arrived")
    assert arrived.status_code == 303
    assert "the referring agency is told" in worker.http.get(arrived.headers["location"]).text
    wait_until(lambda: _agency_sees(system, referral_id) == "in-progress", timeout=30,
               interval=0.3, message="the agency never heard of the arrival")  # fmt: skip
    # Arrived once is enough: the provider refuses it again, and the page says so.
    again = worker.post(f"/tasks/{task_id}/arrived")
    assert again.status_code == 409
    assert "The provider refused it" in again.text
    assert worker.post(f"/tasks/{task_id}/complete", outcome="goal_achieved").status_code == 303
    wait_until(lambda: _agency_sees(system, referral_id) == "completed", timeout=30,
               interval=0.3, message="the agency never heard of the end")  # fmt: skip


def test_a_case_worker_of_another_provider_never_sees_the_shelter_s_tasks(
    system: System,
) -> None:
    shelter = _case_worker(system, "aynur", "shelter")
    employment = _case_worker(system, "kamala", "employment")
    referral_id = _referral(system)
    wait_until(lambda: _agency_sees(system, referral_id) == "accepted", timeout=30,
               interval=0.3, message="the shelter never placed her")  # fmt: skip
    task_id = _task_of(shelter, referral_id)
    assert task_id[:8] not in employment.http.get("/tasks").text
    # Not on the page, and not by asking the employment service for it either.
    refused = employment.post(f"/tasks/{task_id}/arrived")
    assert refused.status_code == 404
    assert _agency_sees(system, referral_id) == "accepted"


def test_nobody_but_a_case_worker_reaches_the_tasks(system: System) -> None:
    console = system.console
    viewer = console.signed_in("vusal", console.account("vusal", "viewer"))
    assert viewer.http.get("/tasks").headers["location"] == "/"
    refused = viewer.post(f"/tasks/{uuid.uuid4()}/arrived")
    assert refused.status_code == 403
    with console.client() as outsider:
        assert outsider.get("/tasks").headers["location"].startswith("/sign-in")
    worker = _case_worker(system, "rena", "shelter")
    assert worker.http.get("/").headers["location"] == "/tasks"


def _task_of(worker: SignedIn, referral_id: str) -> str:
    """The task's id as the case worker's provider knows it (its API, their own key)."""
    page = worker.http.get("/tasks").text
    for chunk in page.split('action="/tasks/')[1:]:
        task_id = chunk.split("/", 1)[0]
        if len(task_id) == 36:
            return task_id
    raise AssertionError(f"no task for {referral_id} on the page")
