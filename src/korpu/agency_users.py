"""Each organization on the bus signs in to Redis as its own user, allowed its own streams only.

An agency system adds referrals to its organization's intake stream and reads its
replies and status changes (`streams.PER_ORGANIZATION`). Its Redis user,
`agency-<organization id>`, may XADD to that intake and read those two streams,
and nothing else: it cannot read another organization's streams, nor add to,
trim, delete from or block (an entry with the highest id) another's intake, nor
touch a consumer group. What it does to its own intake harms only itself.

One password per bus key: `korpu org keys create ORG --bus` makes both and shows
them once, together. Revoking the bus key takes its password away (the user
with the last one) and signs out the user's connections. The passwords are kept
as SHA-256 only, in the keys folder (`redis-agencies.json`, 0600), from which
- `korpu up` writes the users into its embedded Redis's users file at each start;
- `apply` sets them on a running Redis (ACL SETUSER, ACL DELUSER), signed in as
  `admin` (korpu.redis_acl), and saves them in its ACL file where it has one.

A Redis whose default user lets anyone in (no users set up: a developer's, the
test suite's) gets none: a user there keeps nobody out. The organizations'
signatures (referral/adapters/bus_keys.py) still tell who sent each entry.
"""

from __future__ import annotations

import dataclasses
import json
import secrets
from pathlib import Path

import redis

from korpu import redis_acl
from korpu_contracts import streams

PREFIX = "agency-"
FILE = "redis-agencies.json"
# On its replies and status streams: read from an id of its choosing (no consumer
# group: a group's reads write to the stream's state, which only the referral may).
READ = ("xread", "xrange", "xrevrange", "xlen", "xinfo|stream")


def name(organization_id: str) -> str:
    return PREFIX + organization_id


def user(organization_id: str) -> redis_acl.User:
    return redis_acl.User(
        name(organization_id),
        ("ping",),
        (
            redis_acl.Selector("%W~", (streams.intake(organization_id),), ("xadd",)),
            redis_acl.Selector(
                "%R~",
                (streams.intake_replies(organization_id), streams.referral_status(organization_id)),
                READ,
            ),
        ),
    )


Registry = dict[str, dict[str, str]]  # organization id -> bus key id -> password's SHA-256


def _load(keys_dir: Path) -> Registry:
    path = keys_dir / FILE
    found: Registry = json.loads(path.read_text()) if path.exists() else {}
    return found


def _save(keys_dir: Path, registry: Registry) -> None:
    redis_acl.private_folder(keys_dir)
    text = json.dumps(registry, indent=2, sort_keys=True) + "\n"
    redis_acl.write_private(keys_dir / FILE, text)


def grant(keys_dir: Path, organization_id: str, key_id: str) -> str:
    """A new password for the organization's user, tied to its bus key; shown once."""
    password = secrets.token_urlsafe(32)
    registry = _load(keys_dir)
    registry.setdefault(organization_id, {})[key_id] = redis_acl.password_hash(password)
    _save(keys_dir, registry)
    return password


def withdraw(keys_dir: Path, key_id: str) -> str | None:
    """Take away the password of a bus key; the organization it was of, None if none was."""
    registry = _load(keys_dir)
    for organization_id, passwords in registry.items():
        if passwords.pop(key_id, None) is not None:
            if not passwords:
                del registry[organization_id]
            _save(keys_dir, registry)
            return organization_id
    return None


def lines(keys_dir: Path) -> list[str]:
    """The organizations' users as lines of an ACL file (for the embedded Redis)."""
    return [
        " ".join(["user", name(organization_id), *user(organization_id).rules([*hashes.values()])])
        for organization_id, hashes in sorted(_load(keys_dir).items())
    ]


def is_open(client: redis.Redis) -> bool:
    """Signed in as a default user that needs no password: a Redis without users."""
    if client.acl_whoami() != "default":
        return False
    found = client.acl_getuser("default")
    flags = found["flags"] if found else []
    return isinstance(flags, list) and "nopass" in flags and "on" in flags


@dataclasses.dataclass(frozen=True)
class Applied:
    set: list[str]
    removed: list[str]
    # Where Redis keeps no ACL file, the users last only until it restarts.
    saved: bool


def apply(client: redis.Redis, keys_dir: Path, *, sign_out: str | None = None) -> Applied:
    """Make Redis's organization users exactly those of the keys folder.

    `sign_out`: an organization whose connections are closed (one of its passwords
    was taken away: a connection signed in with it would otherwise stay)."""
    registry = _load(keys_dir)
    for organization_id, hashes in sorted(registry.items()):
        rules = user(organization_id).rules(list(hashes.values()))
        client.execute_command(  # type: ignore[no-untyped-call]
            "ACL", "SETUSER", name(organization_id), *rules
        )
    wanted = {name(organization_id) for organization_id in registry}
    present = {str(found) for found in client.acl_users() if str(found).startswith(PREFIX)}
    removed = sorted(present - wanted)
    if removed:
        client.acl_deluser(*removed)  # which closes their connections too
    if sign_out is not None and name(sign_out) in wanted:
        client.execute_command(  # type: ignore[no-untyped-call]
            "CLIENT", "KILL", "USER", name(sign_out)
        )
    try:
        client.acl_save()
        saved = True
    except redis.ResponseError:
        saved = False
    return Applied(sorted(wanted), removed, saved)
