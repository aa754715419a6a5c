"""On the acl_bus, each service acts only on its own streams: Redis refuses everything else.

Every attack runs on a real redis-server twice: loaded with compose's
deploy/redis-users.acl, and as `korpu up` starts its embedded one.
"""

from __future__ import annotations

import stat
import subprocess
from pathlib import Path

import pytest
import redis

from korpu import catalog, redis_acl
from korpu_contracts import streams
from korpu_contracts.vocabulary import Service
from support.acl_redis import AclRedis, embedded_users, refused

ENTRY = (streams.ENTRY_FIELD, "{}")
# The highest stream id: after it, nobody can add to the stream again.
LAST_ID = "18446744073709551615-18446744073709551615"
SOME_ORGANIZATION = "0f0e0d0c-0b0a-4909-8807-060504030201"


def _agency_streams(organization_id: str) -> list[str]:
    return [
        streams.intake(organization_id),
        streams.intake_replies(organization_id),
        streams.referral_status(organization_id),
    ]


def _others(provider: str, by_service: dict[str, str]) -> list[str]:
    return [stream for service, stream in by_service.items() if service != provider]


@pytest.mark.parametrize("provider", catalog.PROVIDERS)
def test_a_provider_adds_only_to_its_own_answers_stream(acl_bus: AclRedis, provider: str) -> None:
    client = acl_bus.client(provider)
    assert client.execute_command("XADD", streams.UPDATES_BY_SERVICE[provider], "*", *ENTRY)
    elsewhere = [
        *_others(provider, streams.UPDATES_BY_SERVICE),  # forging another provider's answers
        *streams.REQUESTS_BY_SERVICE.values(),  # forging task requests, its own too
        *_agency_streams(SOME_ORGANIZATION),
        streams.DEAD_LETTERS_RESOLVED,
    ]
    for stream in elsewhere:
        assert refused(client, "XADD", stream, "*", *ENTRY), stream
        assert refused(client, "XADD", stream, "MAXLEN", "0", "*", *ENTRY), stream
        assert refused(client, "XADD", stream, LAST_ID, *ENTRY), stream


@pytest.mark.parametrize("provider", catalog.PROVIDERS)
def test_a_provider_can_neither_trim_delete_nor_regroup_what_it_does_not_own(
    acl_bus: AclRedis, provider: str
) -> None:
    # Redis checks permissions before it looks for the key: nothing need exist.
    own_requests = streams.REQUESTS_BY_SERVICE[provider]
    client = acl_bus.client(provider)
    foreign = [
        *_others(provider, streams.UPDATES_BY_SERVICE),
        *_others(provider, streams.REQUESTS_BY_SERVICE),
        *_agency_streams(SOME_ORGANIZATION),
        *streams.DEAD_LETTERS_BY_SERVICE.values(),
    ]
    for stream in foreign:
        assert refused(client, "XTRIM", stream, "MAXLEN", "0"), stream
        assert refused(client, "XGROUP", "CREATE", stream, "spy", "0"), stream
        assert refused(client, "XGROUP", "DESTROY", stream, "referral-coordinator"), stream
        assert refused(client, "XRANGE", stream, "-", "+"), stream
        assert refused(client, "XDEL", stream, "0-1"), stream
    # Its own requests: read through its group, never rewound, destroyed or deleted from.
    group = streams.group(Service(provider))
    assert refused(client, "XGROUP", "DESTROY", own_requests, group)
    assert refused(client, "XGROUP", "SETID", own_requests, group, "$")
    assert refused(client, "XDEL", own_requests, "0-1")
    # Nor another reader's errors, nor anything that is not a stream of the topology.
    other = _others(provider, streams.REQUESTS_BY_SERVICE)[0]
    assert refused(client, "HGETALL", f"korpu.errors:{other}:{provider}")
    assert refused(client, "KEYS", "*")
    assert refused(client, "FLUSHALL")
    assert refused(client, "CONFIG", "GET", "*")


def test_the_referral_service_cannot_forge_answers_or_agency_submissions(acl_bus: AclRedis) -> None:
    client = acl_bus.client("referral")
    for stream in (
        *streams.UPDATES_BY_SERVICE.values(),
        streams.intake(SOME_ORGANIZATION),
        streams.DEAD_LETTERS_RESOLVED,
    ):
        assert refused(client, "XADD", stream, "*", *ENTRY), stream
    assert refused(client, "XTRIM", streams.dead_letters("referral"), "MAXLEN", "0")
    assert refused(client, "XDEL", streams.SHELTER_UPDATES, "0-1")


def test_the_operator_resolves_dead_letters_but_touches_nothing_else(acl_bus: AclRedis) -> None:
    client = acl_bus.client(redis_acl.OPERATOR)
    assert refused(client, "XADD", streams.referral_status(SOME_ORGANIZATION), "*", *ENTRY)
    assert refused(client, "XADD", "anything", "*", *ENTRY)
    assert refused(client, "XTRIM", streams.SHELTER_REQUESTS, "MAXLEN", "0")
    assert refused(client, "FLUSHALL")
    assert refused(client, "CONFIG", "SET", "appendonly", "no")


def test_a_client_that_does_not_sign_in_isrefused(acl_bus: AclRedis) -> None:
    # Compose's default user may PING (its health check); the embedded one is off.
    add = ["XADD", streams.SHELTER_REQUESTS, "*", *ENTRY]
    done = subprocess.run(
        ["redis-cli", "-p", str(acl_bus.port), *add], capture_output=True, text=True, check=False
    )
    assert "NOAUTH" in done.stdout or "NOPERM" in done.stdout, done.stdout
    assert acl_bus.client(redis_acl.OPERATOR).exists(streams.SHELTER_REQUESTS) == 0


def test_the_embedded_redis_has_no_open_default_user(tmp_path: Path) -> None:
    with embedded_users(tmp_path) as running:
        intake = streams.intake(SOME_ORGANIZATION)
        command = ["redis-cli", "-p", str(running.port), "XADD", intake, "*", *ENTRY]
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        assert done.stdout.startswith("NOAUTH"), done.stdout
        with pytest.raises(redis.AuthenticationError):
            redis.Redis(port=running.port).ping()
        # A provider's password is its own: it does not sign in as another user.
        stolen = running.passwords["shelter"]
        with pytest.raises(redis.AuthenticationError):
            redis.Redis(port=running.port, username="legal_aid", password=stolen).ping()


def test_the_embedded_redis_keeps_its_files_and_passwords_private(tmp_path: Path) -> None:
    with embedded_users(tmp_path) as running:
        running.client("shelter").xadd(streams.SHELTER_UPDATES, {"event": "{}"})
    keys = tmp_path / "keys"
    assert stat.S_IMODE(keys.stat().st_mode) == 0o700
    assert stat.S_IMODE((keys / redis_acl.PASSWORDS_FILE).stat().st_mode) == 0o600
    folder = tmp_path / "redis"
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    found = list(folder.rglob("*"))
    assert any(path.name.endswith(".aof") for path in found), found
    for path in found:
        expected = 0o700 if path.is_dir() else 0o600
        assert stat.S_IMODE(path.stat().st_mode) == expected, path
    # The users file holds each password's SHA-256, never the password.
    users = (folder / "users.acl").read_text()
    assert all(password not in users for password in running.passwords.values())
