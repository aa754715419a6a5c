"""Which Redis the tests use: the one named in the environment, the machine's, or none yet."""

from __future__ import annotations

import os
import socket
import uuid

import redis

ENV_VAR = "KORPU_TEST_REDIS_URL"
LOCAL_URL = "redis://127.0.0.1:6379/0"
# Test runs claim database numbers from this range, never the 0 a developer's `korpu up` uses,
# so two runs on one machine (a developer's and CI's) never flush each other's streams.
CLAIMABLE = range(15, 1, -1)
CLAIM_KEY = "korpu:test-run:claims:{number}"
CLAIM_SECONDS = 3 * 3600


def existing_url() -> str | None:
    """The configured Redis, else the machine's if it answers; None means start our own."""
    configured = os.environ.get(ENV_VAR)
    if configured:
        return configured
    return LOCAL_URL if answers_ping(LOCAL_URL) else None


def with_database(url: str, number: int) -> str:
    return f"{url.rsplit('/', 1)[0]}/{number}"


# Replaces a claim only if it still holds the value read: two runs never take one number.
_TAKE_OVER = """
if redis.call('get', KEYS[1]) == ARGV[1] then
  return redis.call('set', KEYS[1], ARGV[2], 'EX', ARGV[3])
end
return false
"""


def new_token() -> str:
    """Names this run's process, so a later run can tell a claim left by a dead one."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex}"


def _left_by_a_dead_run(holder: bytes | None) -> bool:
    host, _, rest = (holder or b"").decode(errors="replace").partition(":")
    pid = rest.partition(":")[0]
    if host != socket.gethostname() or not pid.isdigit():
        return False  # another machine's run, or an old claim: it expires by itself
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def claim_databases(url: str, count: int, token: str) -> list[str]:
    """Claim `count` free database numbers of the server at `url` for this run.

    The claims live in database 0 (the tests flush their own databases, which
    would erase a claim kept there). A run killed before releasing leaves its
    claims behind: on the same machine they are taken over once its process is
    gone; from elsewhere they expire after `CLAIM_SECONDS`.
    """
    client = redis.Redis.from_url(with_database(url, 0))
    take_over = client.register_script(_TAKE_OVER)
    claimed: list[str] = []
    try:
        for number in CLAIMABLE:
            key = CLAIM_KEY.format(number=number)
            won = client.set(key, token, nx=True, ex=CLAIM_SECONDS)
            if not won:
                holder = client.get(key)
                if _left_by_a_dead_run(holder):
                    won = take_over(keys=[key], args=[holder, token, CLAIM_SECONDS])
            if won:
                claimed.append(with_database(url, number))
                if len(claimed) == count:
                    return claimed
    finally:
        client.close()
    raise RuntimeError(f"no {count} free Redis databases for the tests on {url}")


def release_databases(url: str, token: str) -> None:
    client = redis.Redis.from_url(with_database(url, 0))
    try:
        for number in CLAIMABLE:
            key = CLAIM_KEY.format(number=number)
            if client.get(key) == token.encode():
                client.delete(key)
    finally:
        client.close()


def answers_ping(url: str) -> bool:
    client = redis.Redis.from_url(url, socket_connect_timeout=0.5, socket_timeout=0.5)
    try:
        return bool(client.ping())
    except (redis.ConnectionError, redis.TimeoutError):
        return False
    finally:
        client.close()


def flush(url: str) -> None:
    """Empty the one database of `url`, never the others a developer may be using."""
    client = redis.Redis.from_url(url)
    try:
        client.flushdb()
    finally:
        client.close()
