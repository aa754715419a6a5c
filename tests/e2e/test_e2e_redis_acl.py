"""Least privilege on the bus: each service its own Redis user, agencies may only add to intake.

Redis runs with deploy/redis-users.acl, the file docker-compose.yml mounts.
"""

from __future__ import annotations

import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis

from korpu import catalog
from korpu.embedded_redis import free_port
from korpu_contracts import streams
from support.infra import wait_until
from support.referrals import referral_body
from support.stack import running_stack

pytestmark = pytest.mark.slow

ACL_FILE = Path(__file__).resolve().parents[2] / "deploy" / "redis-users.acl"
DIRECTORY: dict[str, list[dict[str, Any]]] = {
    "shelters": [{"name": "Baku Assistance Center", "region": "Baku", "serves": ["women"],
                  "beds": 5}],
    "programs": [{"name": "Tailoring", "region": "Baku", "seats": 5, "languages": ["az"],
                  "min_age": 16}],
    "lawyers": [{"name": "R. Quliyev", "regions": ["Baku"], "languages": ["az", "ru"],
                 "max_caseload": 5}],
}  # fmt: skip


class AclRedis:
    def __init__(self, port: int) -> None:
        self.port = port

    def url(self, user: str) -> str:
        """The demo password of `user` (the file stores only its SHA-256)."""
        return f"redis://{user}:korpu-demo-{user}@127.0.0.1:{self.port}/0"

    def client(self, user: str) -> redis.Redis:
        return redis.Redis.from_url(self.url(user))


@pytest.fixture
def acl_redis(tmp_path: Path) -> Iterator[AclRedis]:
    # The deployment's users, plus one for the test harness to flush and seed with.
    acl = tmp_path / "users.acl"
    acl.write_text(ACL_FILE.read_text() + "user harness on >korpu-demo-harness ~* &* +@all\n")
    port = free_port()
    server = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
         "--appendonly", "no", "--aclfile", str(acl), "--dir", str(tmp_path)],
        stdout=subprocess.DEVNULL, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        probe = redis.Redis(port=port)
        wait_until(lambda: _answers(probe), timeout=10, message="redis-server did not start")
        yield AclRedis(port)
    finally:
        server.terminate()
        server.wait(timeout=10)


def _answers(client: redis.Redis) -> bool:
    try:
        return bool(client.ping())
    except redis.ConnectionError:
        return False


def _denied(call: Any) -> bool:
    try:
        call()
    except redis.exceptions.NoPermissionError:
        return True
    return False


@pytest.mark.parametrize("provider", catalog.PROVIDERS)
def test_a_provider_writes_its_answers_but_never_another_services_stream(
    acl_redis: AclRedis, provider: str
) -> None:
    client = acl_redis.client(provider)
    entry = {streams.ENTRY_FIELD: "{}"}
    assert client.xadd(streams.TASK_UPDATES, entry)
    for service, stream in streams.REQUESTS_BY_SERVICE.items():
        if service != provider:
            assert _denied(lambda stream=stream: client.xadd(stream, entry)), stream
    for stream in (streams.REFERRAL_STATUS, streams.INTAKE, streams.INTAKE_REPLIES):
        assert _denied(lambda stream=stream: client.xadd(stream, entry)), stream
    assert _denied(lambda: client.get("anything-else"))


def test_an_agency_may_only_add_to_the_intake_stream(acl_redis: AclRedis) -> None:
    agency = acl_redis.client("agency")
    assert agency.xadd(streams.INTAKE, {streams.ENTRY_FIELD: "{}"})
    assert _denied(lambda: agency.xrange(streams.INTAKE))  # not even read back what others sent
    assert _denied(lambda: agency.xadd(streams.SHELTER_REQUESTS, {streams.ENTRY_FIELD: "{}"}))
    assert _denied(lambda: agency.xrange(streams.REFERRAL_STATUS))
    assert _denied(lambda: acl_redis.client("default").xrange(streams.INTAKE))


def test_the_services_coordinate_a_referral_each_as_its_own_redis_user(
    acl_redis: AclRedis, tmp_path: Path
) -> None:
    service_env = {name: {"REDIS_URL": acl_redis.url(name)} for name in catalog.SERVICES}
    with running_stack(tmp_path, acl_redis.url("harness"), DIRECTORY, service_env=service_env) as (
        _stack,
        agency,
    ):
        answer = agency.post(
            "/v1/referrals", json=referral_body(), headers={"Idempotency-Key": str(uuid.uuid4())}
        )
        assert answer.status_code == 202, answer.text
        referral_id = answer.json()["id"]

        def coordinated() -> bool:
            view = agency.get(f"/v1/referrals/{referral_id}").json()
            return bool(view["status"] == "coordinated")

        wait_until(coordinated, timeout=15, message="not coordinated under the ACLs")
