"""A real redis-server loaded with the Redis users, as compose runs it, or as `korpu up` does."""

from __future__ import annotations

import contextlib
import subprocess
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest
import redis

from korpu import redis_acl
from korpu.embedded_redis import EmbeddedRedis, free_port, with_credentials
from support.infra import wait_until

# Added to the generated users for a test to flush, seed and read the ACL log with.
HARNESS = "harness"
HARNESS_RULE = f"user {HARNESS} on >korpu-test-{HARNESS} ~* &* +@all\n"


class AclRedis:
    def __init__(self, port: int, passwords: Mapping[str, str]) -> None:
        self.port, self.passwords = port, dict(passwords)

    def url(self, user: str) -> str:
        return with_credentials(f"redis://127.0.0.1:{self.port}/0", user, self.passwords[user])

    def client(self, user: str, **options: Any) -> redis.Redis:
        return redis.Redis.from_url(self.url(user), **options)

    def denials(self) -> list[dict[str, Any]]:
        """What Redis refused a signed-in user since it started (ACL LOG), harness aside."""
        entries: list[dict[str, Any]] = self.client(HARNESS, decode_responses=True).acl_log()
        return [entry for entry in entries if entry["username"] != HARNESS]


@contextlib.contextmanager
def compose_users(directory: Path) -> Iterator[AclRedis]:
    """redis-server with deploy/redis-users.acl (demo passwords), plus the harness user."""
    acl = directory / "users.acl"
    acl.write_text(redis_acl.COMPOSE_FILE.read_text() + HARNESS_RULE)
    port = free_port()
    server = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
         "--appendonly", "no", "--aclfile", str(acl), "--dir", str(directory)],
        stdout=subprocess.DEVNULL, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    passwords = {user: redis_acl.DEMO_PASSWORD.format(user=user) for user in redis_acl.USERS}
    passwords[HARNESS] = f"korpu-test-{HARNESS}"
    running = AclRedis(port, passwords)
    try:
        wait_until(lambda: _answers(running), timeout=10, message="redis-server did not start")
        yield running
    finally:
        server.terminate()
        server.wait(timeout=10)


@contextlib.contextmanager
def embedded_users(data_dir: Path, more_users: Sequence[str] = ()) -> Iterator[AclRedis]:
    """The Redis `korpu up` starts: its users, passwords made for the data folder."""
    passwords = redis_acl.passwords(data_dir / "keys")
    with EmbeddedRedis(data_dir, passwords=passwords, more_users=more_users) as server:
        yield AclRedis(server.port, passwords)


@pytest.fixture(params=["compose", "embedded"])
def acl_bus(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[AclRedis]:
    """Each attack twice: on compose's users file, and as `korpu up` starts its Redis."""
    start = compose_users if request.param == "compose" else embedded_users
    with start(tmp_path) as running:
        yield running


def refused(client: redis.Redis, *command: str) -> bool:
    """Whether Redis refuses `command` to the signed-in user (NOPERM)."""
    try:
        client.execute_command(*command)
    except redis.exceptions.NoPermissionError:
        return True
    return False


def _answers(running: AclRedis) -> bool:
    try:
        return bool(running.client(HARNESS).ping())
    except redis.ConnectionError:
        return False
