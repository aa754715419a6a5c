"""Least privilege on the bus: each service its own Redis user, generated from the topology.

The services run under the users compose loads (deploy/redis-users.acl) and under
the ones `korpu up` gives its embedded Redis; every command they and the operator's
commands run must be allowed (Redis's ACL log stays empty). What each user is refused
is in tests/security/test_security_redis_acl.py.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis

from korpu import catalog, redis_acl
from korpu.embedded_redis import free_ports
from korpu_contracts import entry_signature, intake, referral, sealed, streams
from korpu_contracts.envelope import Envelope
from support.acl_redis import AclRedis, compose_users
from support.infra import wait_until
from support.referrals import referral_body
from support.stack import running_stack

DIRECTORY: dict[str, list[dict[str, Any]]] = {
    "shelters": [{"name": "Baku Assistance Center", "region": "Baku", "serves": ["women"],
                  "beds": 5}],
    "programs": [{"name": "Tailoring", "region": "Baku", "seats": 5, "languages": ["az"],
                  "min_age": 16}],
    "lawyers": [{"name": "R. Quliyev", "regions": ["Baku"], "languages": ["az", "ru"],
                 "max_caseload": 5}],
}  # fmt: skip
# Every background loop often, an entry given up on at its first failure: so that in a
# few seconds each service has trimmed, claimed, retried and dead-lettered under its user.
BUSY = {
    f"{service.upper()}_{name}": value
    for service in catalog.SERVICES
    for name, value in (
        ("TRIM_INTERVAL_SECONDS", "0.2"),
        ("HEAL_INTERVAL_SECONDS", "0.2"),
        ("CLAIM_IDLE_MS", "200"),
        ("MAX_DELIVERIES", "1"),
    )
}
POISON = {streams.ENTRY_FIELD: "not an event"}


def test_the_committed_acl_file_is_what_the_topology_generates() -> None:
    assert redis_acl.COMPOSE_FILE.read_text() == redis_acl.compose_file(), (
        "deploy/redis-users.acl is stale: run `korpu redis-acl`"
    )


def test_each_service_user_reads_exactly_the_streams_the_topology_says_it_receives() -> None:
    from korpu_contracts import asyncapi

    for service in catalog.SERVICES:
        received = {
            (stream, group)
            for who, action, stream, group in asyncapi.roles()
            if (who, action) == (service, "receive")
        }
        read = [*catalog.subscriptions(service), *catalog.templates(service)]
        assert {(s.stream, s.group) for s in read} == received, service


def _korpu(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "korpu", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        stdin=subprocess.DEVNULL,
        check=False,
    )


def _coordinated(agency: httpx.Client) -> None:
    answer = agency.post(
        "/v1/referrals", json=referral_body(), headers={"Idempotency-Key": str(uuid.uuid4())}
    )
    assert answer.status_code == 202, answer.text
    referral_id = answer.json()["id"]

    def coordinated() -> bool:
        view = agency.get(f"/v1/referrals/{referral_id}").json()
        return bool(view["status"] == "coordinated")

    wait_until(coordinated, timeout=30, message="not coordinated under the ACL")


@pytest.mark.slow
def test_every_command_of_the_services_and_the_operator_is_allowed_to_its_user(
    tmp_path: Path,
) -> None:
    (tmp_path / "bus").mkdir()
    with compose_users(tmp_path / "bus") as bus:
        service_env = {name: {"REDIS_URL": bus.url(name)} for name in catalog.SERVICES}
        with running_stack(
            tmp_path, bus.url("harness"), DIRECTORY, service_env=service_env, extra_env=BUSY
        ) as (_stack, agency):
            _coordinated(agency)
            # Entries no handler can read: retried, then given up on, by both kinds of reader.
            harness = bus.client("harness")
            harness.xadd(streams.SHELTER_REQUESTS, POISON)  # type: ignore[arg-type]
            harness.xadd(streams.LEGAL_AID_UPDATES, POISON)  # type: ignore[arg-type]
            wait_until(
                lambda: (
                    harness.xlen(streams.dead_letters("shelter")) == 1
                    and harness.xlen(streams.dead_letters("referral")) == 1
                ),
                timeout=30,
                message="the poison entries were not dead-lettered",
            )
            _operator_commands(bus)
        assert bus.denials() == []


def _operator_commands(bus: AclRedis) -> None:
    env = {**os.environ, "REDIS_URL": bus.url(redis_acl.OPERATOR)}
    status = _korpu("status", "--json", env=env)
    assert status.returncode == 0, status.stderr
    assert json.loads(status.stdout)["dead_letters"] == 2
    letters = json.loads(_korpu("dlq", "list", "--json", env=env).stdout)
    assert {letter["origin_stream"] for letter in letters} == {
        streams.SHELTER_REQUESTS,
        streams.LEGAL_AID_UPDATES,
    }
    first, second = (letter["id"] for letter in letters)
    assert _korpu("dlq", "show", first, env=env).returncode == 0
    assert _korpu("dlq", "replay", first, env=env).returncode == 0
    discarded = _korpu("dlq", "discard", second, "--reason", "test poison", env=env)
    assert discarded.returncode == 0, discarded.stderr


@pytest.mark.slow
def test_korpu_up_runs_each_service_as_its_own_user_and_prints_no_password(
    tmp_path: Path,
) -> None:
    env = {key: value for key, value in os.environ.items() if key != "REDIS_URL"}
    env["KORPU_DATA_DIR"] = str(tmp_path)
    ports = free_ports(catalog.PROCESSES)
    env.update({f"{name.upper()}_HTTP_PORT": str(port) for name, port in ports.items()})
    printed = tmp_path / "up.out"
    with printed.open("w") as out:
        up = subprocess.Popen(
            [sys.executable, "-m", "korpu", "up"],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    try:
        wait_until(
            lambda: "Ctrl-C" in printed.read_text() or up.poll() is not None,
            timeout=90,
            message="korpu up never said it was ready",
        )
        assert up.poll() is None, printed.read_text()
        passwords = json.loads((tmp_path / "keys" / redis_acl.PASSWORDS_FILE).read_text())
        # Each service process signs in as itself, the console as the operator (Redis,
        # also a child, has no REDIS_URL).
        urls = [_environ(pid).get("REDIS_URL") for pid in _children(up.pid)]
        users = sorted(url.split("://", 1)[1].split(":", 1)[0] for url in urls if url)
        assert users == sorted([*catalog.SERVICES, redis_acl.OPERATOR])
        for url in filter(None, urls):
            user = url.split("://", 1)[1].split(":", 1)[0]
            assert url.startswith(f"redis://{user}:{passwords[user]}@127.0.0.1:")
        # The operator's commands, run in the same folder, find the embedded Redis.
        status = _korpu("status", "--json", env=env)
        assert status.returncode == 0, status.stderr
        described = {stream["name"]: stream for stream in json.loads(status.stdout)["streams"]}
        assert described[streams.SHELTER_REQUESTS]["groups"][0]["name"] == streams.GROUP_SHELTER
        org = _korpu("org", "create", "Hotline", "--json", env=env)
        api_key = json.loads(org.stdout)["api_key"]
        with httpx.Client(
            base_url=f"http://127.0.0.1:{ports['referral']}",
            headers={"Authorization": f"Bearer {api_key}"},
            timeout=10,
        ) as agency:
            _coordinated(agency)
            _an_agency_on_the_bus(agency, json.loads(org.stdout)["org_id"], env)
        shown = printed.read_text() + status.stdout + _korpu("status", env=env).stdout
        logs = "".join(path.read_text(errors="replace") for path in tmp_path.glob("logs/*"))
        for password in passwords.values():
            assert password not in shown
            assert password not in logs
    finally:
        up.send_signal(signal.SIGINT)
        up.wait(timeout=60)
    assert up.returncode == 0, printed.read_text()


def _an_agency_on_the_bus(agency: httpx.Client, organization_id: str, env: dict[str, str]) -> None:
    """Its bus key and Redis user made while everything runs: it submits as its own user,
    reads its answer, and is refused everywhere else."""
    made = _korpu("org", "keys", "create", organization_id, "--bus", "--json", env=env)
    assert made.returncode == 0, made.stderr
    expected = "Redis users: set for 1 organization(s) at redis://admin:***@127.0.0.1:"
    assert made.stderr.startswith(expected), made.stderr
    printed = json.loads(made.stdout)
    address = (Path(env["KORPU_DATA_DIR"]) / "redis" / "address").read_text().strip()
    own = redis.Redis.from_url(
        address, username=printed["redis_user"], password=printed["redis_password"]
    )
    key = entry_signature.AgencyKey.parse(printed["bus_key"])
    intake_key = sealed.IntakeKey.parse(agency.get("/v1/intake-key").json()["key"])
    command = intake.SubmitReferral(
        organization_id=organization_id,
        idempotency_key="on-the-bus",
        sealed_referral=sealed.seal_referral(
            referral_body(), intake_key, organization_id, "on-the-bus"
        ),
    )
    envelope = Envelope.wrap(command, source="agency/hotline", subject="BUS-1")
    stream = printed["streams"]["intake"]
    own.xadd(stream, key.signed(stream, {streams.ENTRY_FIELD: envelope.to_json()}))  # type: ignore[arg-type]

    def answered() -> list[Any]:
        found: list[Any] = own.xread({printed["streams"]["replies"]: "0"})
        return found

    wait_until(answered, timeout=30, message="the agency on the bus was never answered")
    [[_, [(_, fields)]]] = answered()
    reply = Envelope.from_json(fields[streams.ENTRY_FIELD.encode()])
    assert reply.type == referral.ReferralAccepted.TYPE, reply.data
    with pytest.raises(redis.exceptions.NoPermissionError):
        own.xadd(streams.intake(str(uuid.uuid4())), {streams.ENTRY_FIELD: "{}"})
    with pytest.raises(redis.exceptions.NoPermissionError):
        own.xadd(streams.SHELTER_REQUESTS, {streams.ENTRY_FIELD: "{}"})


def _children(pid: int) -> list[int]:
    found = subprocess.run(
        ["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True, text=True, check=False
    )
    return [int(line) for line in found.stdout.split()]


def _environ(pid: int) -> dict[str, str]:
    raw = Path(f"/proc/{pid}/environ").read_bytes()
    pairs = (item.split(b"=", 1) for item in raw.split(b"\0") if b"=" in item)
    return {key.decode(): value.decode(errors="replace") for key, value in pairs}
