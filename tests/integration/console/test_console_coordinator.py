"""The national coordinator in the console: the queue, the cases, a decision, and nobody else.

A real referral service (its own process) with no provider running: a shelter request
nobody answers passes its (shortened) deadline. The console calls the referral
service's coordinator API with the coordinator's own key, made by `korpu users create`.
"""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator

import httpx
import pytest

from korpu.embedded_redis import free_ports
from support.console import ConsoleProcess, SignedIn, csrf_of, running, wait_ready
from support.infra import wait_until
from support.referrals import referral_body


@dataclasses.dataclass(frozen=True)
class System:
    console: ConsoleProcess
    agency_key: str
    referral: str


@pytest.fixture(scope="module")
def system(spare_redis_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[System]:
    """The referral service and the console, sharing an environment; an agency's key."""
    folder = tmp_path_factory.mktemp("coordinator")
    ports = free_ports(["referral", "console"])
    env = {
        **os.environ,
        "REDIS_URL": spare_redis_url,
        "KORPU_DATA_DIR": str(folder),
        "REFERRAL_HTTP_PORT": str(ports["referral"]),
        # The shelter answers within a second, or the coordinator hears of it.
        "REFERRAL_RESPONSE_DEADLINE_HOURS": json.dumps({"shelter": 0.0003}),
        "REFERRAL_ESCALATION_INTERVAL_SECONDS": "0.5",
        "CONSOLE_HTTP_PORT": str(ports["console"]),
        "CONSOLE_SERVICE_URLS": json.dumps({"referral": f"http://127.0.0.1:{ports['referral']}"}),
    }
    referral = subprocess.Popen(
        [sys.executable, "-m", "korpu", "serve", "referral"],
        env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        url = f"http://127.0.0.1:{ports['referral']}"
        wait_ready(url, referral, "referral")
        with running(env, ports["console"], folder / "console.db") as console:
            agency = _json(console.korpu("org", "create", "Hotline 152", "--json"))["api_key"]
            yield System(console, agency, url)
    finally:
        referral.terminate()
        referral.wait(timeout=30)


def _json(done: subprocess.CompletedProcess[str]) -> dict[str, str]:
    assert done.returncode == 0, done.stderr
    found: dict[str, str] = json.loads(done.stdout)
    return found


@pytest.fixture(scope="module")
def coordinator(system: System) -> Iterator[SignedIn]:
    console = system.console
    organization = _json(console.korpu("org", "create", "National coordinator", "--coordinator",
                                       "--json"))["org_id"]  # fmt: skip
    made = console.korpu("users", "create", "leyla", "--role", "coordinator",
                         "--organization", organization, "--json")  # fmt: skip
    signed = console.signed_in("leyla", _json(made)["password"])
    yield signed
    signed.http.close()


def _submitted(system: System, reference: str) -> str:
    body = referral_body(agency_reference=reference)
    # A person of their own each time: the same one twice would be closed as a duplicate.
    body["person"] |= {
        "given_name": f"Aysel-{reference}",
        "date_of_birth": "1999-0" + reference[-1] + "-11",
    }
    answer = httpx.post(
        f"{system.referral}/v1/referrals",
        json=body,
        headers={
            "Authorization": f"Bearer {system.agency_key}",
            "Idempotency-Key": str(uuid.uuid4()),
        },
        timeout=10,
    )
    assert answer.status_code == 202, answer.text
    referral_id: str = answer.json()["id"]
    return referral_id


def test_an_unanswered_task_is_in_the_coordinator_s_queue_and_cases(
    system: System, coordinator: SignedIn
) -> None:
    referral_id = _submitted(system, "POL-Q-1")

    def queued() -> bool:
        return referral_id in coordinator.http.get("/queue").text

    wait_until(queued, timeout=30, interval=0.5, message="the late task never reached the queue")
    page = coordinator.http.get("/queue").text
    assert "Unanswered past the deadline: shelter" in page
    listed = coordinator.http.get("/cases?agency_reference=POL-Q-1")
    assert listed.status_code == 200
    assert "POL-Q-1" in listed.text
    # The list and the case hold no personal data.
    case = coordinator.http.get(f"/cases/{referral_id}").text
    for personal in ("Aysel", "Məmmədova", "1999-01-11"):
        assert personal not in listed.text
        assert personal not in case
    assert "potential victim" in case


def test_the_coordinator_records_identification_and_extends_the_period(
    system: System, coordinator: SignedIn
) -> None:
    referral_id = _submitted(system, "POL-Q-2")
    decided = coordinator.post(
        f"/cases/{referral_id}/identification", status="identified", decided_on="2026-12-01"
    )
    assert decided.status_code == 303
    page = coordinator.http.get(decided.headers["location"]).text
    assert "Recorded." in page
    assert "decided on 2026-12-01" in page
    extended = coordinator.post(
        f"/cases/{referral_id}/recovery-period", extend_days="30", reason="safety"
    )
    assert extended.status_code == 303
    assert "extended by 30 days (safety)" in coordinator.http.get(f"/cases/{referral_id}").text
    refused = coordinator.post(
        f"/cases/{referral_id}/identification", status="identified", decided_on="2999-01-01"
    )
    assert refused.status_code == 422
    assert "The referral service refused it" in refused.text
    forged = coordinator.http.post(
        f"/cases/{referral_id}/identification",
        data={"status": "identified", "decided_on": "2026-12-01", "csrf": "guess"},
    )
    assert forged.status_code == 403


def test_nobody_but_the_coordinator_reaches_the_coordinator_s_pages(
    system: System,
) -> None:
    console = system.console
    operator = console.signed_in("omar", console.account("omar", "operator"))
    referral_id = _submitted(system, "POL-Q-3")
    for page in ("/queue", "/cases", f"/cases/{referral_id}"):
        answer = operator.http.get(page)
        assert answer.status_code == 303, page
        assert answer.headers["location"] == "/"
    refused = operator.post(
        f"/cases/{referral_id}/identification", status="identified", decided_on="2026-12-01"
    )
    assert refused.status_code == 403
    with console.client() as outsider:
        assert outsider.get("/queue").headers["location"].startswith("/sign-in")


def test_a_coordinator_is_sent_from_the_queues_pages_to_their_own(
    coordinator: SignedIn,
) -> None:
    answer = coordinator.http.get("/dead-letters")
    assert answer.status_code == 303
    assert answer.headers["location"] == "/cases"
    assert coordinator.post("/dead-letters/replay", id="1-0").status_code == 403
    assert csrf_of(coordinator.http.get("/cases").text)
