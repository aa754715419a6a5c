"""Which Redis the tests use: the one named in the environment, the machine's, or none yet."""

from __future__ import annotations

import os

import redis

ENV_VAR = "KORPU_TEST_REDIS_URL"
# Database 13 of the machine's Redis: far from the 0 a developer's own `korpu up` would use.
LOCAL_URL = "redis://127.0.0.1:6379/13"


def existing_url() -> str | None:
    """The configured Redis, else the machine's if it answers; None means start our own."""
    configured = os.environ.get(ENV_VAR)
    if configured:
        return configured
    return LOCAL_URL if answers_ping(LOCAL_URL) else None


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
