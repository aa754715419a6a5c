"""On the acl_bus, each organization reaches only its own streams: Redis refuses the rest.

Before, every agency system signed in as one `agency` user on one intake stream,
where any of them could wipe the others' entries (XADD ... MAXLEN 0), block the
stream for everyone (an entry with the highest id) and, on the one status stream,
read every organization's references. Now each organization has its own intake,
replies and status streams and its own Redis user (korpu.agency_users), made by
`admin` on a running Redis, or written into the embedded one's users at its start.

Every attack runs on a real redis-server twice: loaded with compose's
deploy/redis-users.acl, and as `korpu up` starts its embedded one. That an
entry on an organization's intake is refused unless that organization signed it,
where Redis has no users at all, is tests/security/test_security_agency_bus.py.
"""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
import redis

from korpu import agency_users, redis_acl
from korpu_contracts import streams
from support.acl_redis import AclRedis, embedded_users, refused

ENTRY = (streams.ENTRY_FIELD, "{}")
LAST_ID = "18446744073709551615-18446744073709551615"


class Agencies:
    """Two organizations with their own Redis users, made as the operator makes them."""

    def __init__(self, acl_bus: AclRedis, keys_dir: Path) -> None:
        self.acl_bus, self.keys_dir = acl_bus, keys_dir
        self.victim, self.attacker = str(uuid.uuid4()), str(uuid.uuid4())
        self.passwords = {
            organization: agency_users.grant(keys_dir, organization, f"key-{organization}")
            for organization in (self.victim, self.attacker)
        }
        self.applied = agency_users.apply(acl_bus.client(redis_acl.ADMIN), keys_dir)

    def client(self, organization: str) -> redis.Redis:
        return redis.Redis(
            port=self.acl_bus.port,
            username=agency_users.name(organization),
            password=self.passwords[organization],
        )


@pytest.fixture
def agencies(acl_bus: AclRedis, tmp_path: Path) -> Agencies:
    return Agencies(acl_bus, tmp_path / "operator-keys")


def _streams(organization: str) -> tuple[str, str, str]:
    return (
        streams.intake(organization),
        streams.intake_replies(organization),
        streams.referral_status(organization),
    )


def test_an_agency_cannot_wipe_block_or_add_to_another_organizations_intake(
    agencies: Agencies, acl_bus: AclRedis
) -> None:
    victim_intake = streams.intake(agencies.victim)
    agencies.client(agencies.victim).xadd(victim_intake, dict([ENTRY]))
    attacker = agencies.client(agencies.attacker)
    assert refused(attacker, "XADD", victim_intake, "*", *ENTRY)
    assert refused(attacker, "XADD", victim_intake, "MAXLEN", "0", "*", *ENTRY)
    assert refused(attacker, "XADD", victim_intake, LAST_ID, *ENTRY)
    assert refused(attacker, "XTRIM", victim_intake, "MAXLEN", "0")
    assert refused(attacker, "XDEL", victim_intake, "0-1")
    assert refused(attacker, "DEL", victim_intake)
    assert refused(attacker, "XGROUP", "CREATE", victim_intake, "spy", "0")
    assert refused(attacker, "XGROUP", "DESTROY", victim_intake, streams.GROUP_REFERRAL_INTAKE)
    assert refused(attacker, "XGROUP", "SETID", victim_intake, streams.GROUP_REFERRAL_INTAKE, "$")
    # The victim's entry is still there for the referral service, and it can still add.
    assert len(acl_bus.client("referral").xrange(victim_intake)) == 1
    assert agencies.client(agencies.victim).xadd(victim_intake, dict([ENTRY]))


def test_an_agency_cannot_read_another_organizations_streams(
    agencies: Agencies, acl_bus: AclRedis
) -> None:
    referral = acl_bus.client("referral")
    for stream in _streams(agencies.victim)[1:]:
        referral.xadd(stream, dict([ENTRY]))
    attacker = agencies.client(agencies.attacker)
    for stream in _streams(agencies.victim):
        assert refused(attacker, "XRANGE", stream, "-", "+"), stream
        assert refused(attacker, "XREAD", "STREAMS", stream, "0"), stream
        assert refused(attacker, "XLEN", stream), stream
        assert refused(attacker, "XINFO", "STREAM", stream), stream
    # Nor find out which organizations exist: no listing of keys at all.
    assert refused(attacker, "SCAN", "0")
    assert refused(attacker, "KEYS", "*")


def test_an_agency_adds_to_its_intake_and_reads_its_own_answers_and_nothing_more(
    agencies: Agencies, acl_bus: AclRedis
) -> None:
    own_intake, own_replies, own_status = _streams(agencies.attacker)
    referral = acl_bus.client("referral")
    referral.xadd(own_replies, dict([ENTRY]))
    referral.xadd(own_status, dict([ENTRY]))
    agency = agencies.client(agencies.attacker)
    assert agency.xadd(own_intake, dict([ENTRY]))
    assert len(agency.xread({own_replies: "0", own_status: "0"})) == 2
    # It never reads its intake back, nor writes what the referral service writes.
    assert refused(agency, "XRANGE", own_intake, "-", "+")
    assert refused(agency, "XADD", own_replies, "*", *ENTRY)
    assert refused(agency, "XADD", own_status, "*", *ENTRY)
    # No consumer groups: those write to the stream's state, the referral service's alone.
    assert refused(agency, "XGROUP", "CREATE", own_replies, "mine", "0")
    assert refused(agency, "XREADGROUP", "GROUP", "g", "c", "STREAMS", own_replies, ">")
    # Nor any stream between the services, nor the server.
    for stream in (
        streams.SHELTER_REQUESTS,
        streams.SHELTER_UPDATES,
        streams.dead_letters("referral"),
    ):
        assert refused(agency, "XADD", stream, "*", *ENTRY), stream
        assert refused(agency, "XRANGE", stream, "-", "+"), stream
    assert refused(agency, "FLUSHALL")
    assert refused(agency, "ACL", "SETUSER", agencies.attacker, "on", "~*", "+@all")


def test_a_password_is_its_own_organizations_and_a_withdrawn_one_signs_in_no_more(
    agencies: Agencies, acl_bus: AclRedis
) -> None:
    with pytest.raises(redis.AuthenticationError):
        redis.Redis(
            port=acl_bus.port,
            username=agency_users.name(agencies.victim),
            password=agencies.passwords[agencies.attacker],
        ).ping()
    connected = agencies.client(agencies.attacker)
    assert connected.ping()
    # The bus key revoked: its password taken away, the user (its last) and its
    # connections gone at once.
    assert agency_users.withdraw(agencies.keys_dir, f"key-{agencies.attacker}") == agencies.attacker
    applied = agency_users.apply(
        acl_bus.client(redis_acl.ADMIN), agencies.keys_dir, sign_out=agencies.attacker
    )
    assert applied.removed == [agency_users.name(agencies.attacker)]
    with pytest.raises((redis.ConnectionError, redis.AuthenticationError)):
        connected.xadd(streams.intake(agencies.attacker), dict([ENTRY]))
    with pytest.raises(redis.AuthenticationError):
        agencies.client(agencies.attacker).ping()
    assert agencies.client(agencies.victim).ping()


def test_only_the_admin_makes_users(acl_bus: AclRedis) -> None:
    for user in ("referral", "shelter", redis_acl.OPERATOR):
        client = acl_bus.client(user)
        assert refused(client, "ACL", "SETUSER", "agency-x", "on", ">x", "~*", "+@all"), user


def test_the_embedded_redis_starts_with_the_organizations_users(tmp_path: Path) -> None:
    keys = tmp_path / "keys"
    organization = str(uuid.uuid4())
    password = agency_users.grant(keys, organization, "key-1")
    with embedded_users(tmp_path, more_users=agency_users.lines(keys)) as running:
        agency = redis.Redis(
            port=running.port, username=agency_users.name(organization), password=password
        )
        assert agency.xadd(streams.intake(organization), dict([ENTRY]))
        assert refused(agency, "XADD", streams.intake(str(uuid.uuid4())), "*", *ENTRY)
    # Kept as SHA-256 only, in a file only its owner reads.
    kept = (keys / agency_users.FILE).read_text()
    assert password not in kept and redis_acl.password_hash(password) in kept
    assert (keys / agency_users.FILE).stat().st_mode & 0o077 == 0
