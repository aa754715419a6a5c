"""Redis users: one per service, each allowed exactly the keys and commands it runs.

Generated from the topology, so a stream added to the contracts gets its permissions
with it: who sends on which stream (`korpu_contracts.asyncapi.roles`) and what each
service reads, in which consumer group, and whether it deletes what it read (its
subscriptions). `korpu redis-acl` writes deploy/redis-users.acl for compose (demo
passwords); `korpu up` writes the same users, with passwords made for its data
folder, for its embedded Redis.

Each user is a set of Redis 7 selectors, `(keys commands)`: a command is allowed
when one selector grants both it and every key it touches. So a provider may
XADD only to its own answers stream (`%W~`: write, never read back), acknowledge
and claim only in the streams it reads (`~`), and never destroy a group, delete
an entry, or touch another's stream. Rejected: one key list and one command list
per user (the compose file before), which let every provider XTRIM or XGROUP
DESTROY any stream it could read and XADD to any stream it could acknowledge in.

What Redis permissions cannot express: the arguments of an allowed command. A user
that may XADD to a stream may also add with MAXLEN 0 (trimming it) or with the
highest id (after which nobody can add to it). Hence one writer per stream:
each provider its own answers stream, each service its own dead letters, each
organization on the bus its own intake (korpu.agency_users, whose users are made
per organization, not here).

A stream made per organization (`streams.PER_ORGANIZATION`) is granted to the
referral service as a pattern: `korpu.referral.intake.*`.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import re
import secrets
from collections.abc import Mapping, Sequence
from pathlib import Path

from korpu import catalog, output, status
from korpu_contracts import asyncapi, streams
from korpu_runtime.consumer import Subscription
from korpu_runtime.redelivery import errors_key

OPERATOR = "operator"
# Makes and removes each organization's Redis user (korpu.agency_users): Redis's own
# administrator in effect, since a user who may ACL SETUSER may make any user.
# Signed in as only by `korpu org keys ... --bus` and `korpu org redis-users`.
ADMIN = "admin"
USERS = (*catalog.SERVICES, OPERATOR, ADMIN)

COMPOSE_FILE = Path(__file__).resolve().parents[2] / "deploy" / "redis-users.acl"
# The password of `user` in compose's file: for a local demo only (docker-compose.yml).
DEMO_PASSWORD = "korpu-demo-{user}"
# Where `korpu up` keeps the passwords it made, in the keys folder.
PASSWORDS_FILE = "redis-passwords.json"

# Every user: a health check, and MULTI/EXEC (a dead letter is written and acknowledged
# in one transaction). Commands that name no key are granted outside the selectors.
CONNECTION = ("ping", "multi", "exec", "discard")
# On a stream read through the service's own consumer group: the reader (FastStream),
# redelivery (pending, claim, forget a gone consumer), the healer (create the group
# again after a wipe) and retention (trim below the slowest group). Never DESTROY,
# SETID or XADD.
READ = (
    "xreadgroup",
    "xack",
    "xclaim",
    "xpending",
    "xrange",
    "xinfo|groups",
    "xinfo|consumers",
    "xgroup|create",
    "xgroup|delconsumer",
    "xtrim",
)
# On a stream carrying personal data: each entry is deleted once stored.
DELETE = ("xdel",)
# The hash of each pending entry's last error (`redelivery.errors_key`).
ERRORS = ("hget", "hkeys", "hset", "hdel")
# On a stream the service produces: add, and trim it below its readers' position,
# for which it reads the groups' positions (`retention.trim_floor`), not the entries.
WRITE = ("xadd", "xtrim")
WRITE_FLOOR = ("xinfo|groups", "xpending")
# The operator's commands (`korpu status`, `korpu dlq`): `info` for `korpu up`'s
# check that its own Redis answers, `unwatch` for the WATCH around resolving a letter.
# `scan` lists the streams made per organization (`korpu status`).
OPERATOR_CONNECTION = (*CONNECTION, "unwatch", "info", "scan")
ADMIN_COMMANDS = (
    "ping",
    "acl|setuser",
    "acl|deluser",
    "acl|getuser",
    "acl|users",
    "acl|whoami",
    "acl|save",
    "client|kill",
)
# What `korpu status` and `korpu trace` read; `xrevrange` for the trace, which reads each
# stream newest first so that its bound leaves out the oldest entries, not the stuck ones.
STATUS = ("exists", "xlen", "xinfo|groups", "xinfo|consumers", "xrange", "xrevrange", "xpending")
RESOLVE = ("watch", "xrange", "xdel")

_GLOB = re.compile(r"([*?\[\]\\])")


@dataclasses.dataclass(frozen=True)
class Selector:
    """Keys and the commands allowed on them, as one `(...)` of an ACL rule.

    `access` is Redis's key permission: `~` read and write, `%R~` read only,
    `%W~` write only (an XADD never reads the stream back).
    """

    access: str
    keys: tuple[str, ...]
    commands: tuple[str, ...]

    def rule(self) -> str:
        keys = " ".join(self.access + key_pattern(key) for key in self.keys)
        return f"({keys} {' '.join('+' + command for command in self.commands)})"


def key_pattern(key: str) -> str:
    """A key as an ACL pattern: itself, escaped, but a per-organization stream's template
    (`{organization_id}`, also in the keys named after it) matches any organization."""
    return _GLOB.sub(r"\\\1", key).replace("{organization_id}", "*")


@dataclasses.dataclass(frozen=True)
class User:
    name: str
    commands: tuple[str, ...]
    selectors: tuple[Selector, ...]

    def line(self, password: str) -> str:
        """One line of an ACL file; the password is kept as its SHA-256 only."""
        return " ".join(["user", self.name, *self.rules([password_hash(password)])])

    def rules(self, password_hashes: Sequence[str]) -> list[str]:
        """The user's ACL rules, from nothing (`reset`): for a file line or ACL SETUSER."""
        passwords = [f"#{digest}" for digest in password_hashes]
        allowed = ["+" + command for command in self.commands]
        return ["reset", "on", *passwords, *allowed, *(s.rule() for s in self.selectors)]


def password_hash(password: str) -> str:
    return hashlib.sha256(password.encode()).hexdigest()


def _sent_by(actor: str) -> tuple[str, ...]:
    roles = asyncapi.roles()
    sent = (stream for who, action, stream, _ in roles if (who, action) == (actor, "send"))
    return tuple(dict.fromkeys(sent))


def _service(name: str) -> User:
    read: list[Subscription] = [*catalog.subscriptions(name), *catalog.templates(name)]
    written = _sent_by(name)
    selectors = [
        Selector("~", tuple(s.stream for s in read), READ),
        Selector("~", tuple(errors_key(s) for s in read), ERRORS),
        Selector("%W~", written, WRITE),
        Selector("%R~", written, WRITE_FLOOR),
        # A reader gives up on its own entries; resolving them is the operator's.
        Selector("%W~", (streams.dead_letters(name),) if read else (), ("xadd",)),
    ]
    personal = tuple(s.stream for s in read if s.personal_data)
    if personal:
        selectors.insert(1, Selector("~", personal, DELETE))
    return User(name, CONNECTION, tuple(s for s in selectors if s.keys))


def replayable() -> tuple[str, ...]:
    """The streams a dead letter can come from: every stream read through a group."""
    found = (
        s.stream
        for name in catalog.SERVICES
        for s in (*catalog.subscriptions(name), *catalog.templates(name))
    )
    return tuple(dict.fromkeys(found))


def _operator() -> User:
    return User(
        OPERATOR,
        OPERATOR_CONNECTION,
        (
            Selector("%R~", status.STREAMS, STATUS),
            Selector("~", tuple(streams.DEAD_LETTERS_BY_SERVICE.values()), RESOLVE),
            Selector("%W~", (streams.DEAD_LETTERS_RESOLVED,), ("xadd",)),
            # `korpu dlq replay` puts a letter back on its stream, and only there.
            Selector("%W~", replayable(), ("xadd",)),
        ),
    )


def _admin() -> User:
    return User(ADMIN, ADMIN_COMMANDS, ())


def users() -> list[User]:
    """Every user, in the order of `USERS`."""
    return [*(_service(name) for name in catalog.SERVICES), _operator(), _admin()]


def render(passwords: Mapping[str, str], *, default_user: bool, more: Sequence[str] = ()) -> str:
    """An ACL file. `default_user`: an unauthenticated client may PING (compose's health
    check) and nothing else; without it the default user is off (NOAUTH for everything).
    `more`: further lines (the organizations' users, korpu.agency_users)."""
    default = "user default reset on nopass +ping" if default_user else "user default reset off"
    lines = [default, *(user.line(passwords[user.name]) for user in users()), *more]
    return "\n".join(lines) + "\n"


def compose_file() -> str:
    """deploy/redis-users.acl: the demo passwords, an unauthenticated PING for the health check."""
    passwords = {user: DEMO_PASSWORD.format(user=user) for user in USERS}
    return render(passwords, default_user=True)


def write_or_check(check: bool, as_json: bool = False) -> int:
    text = compose_file()
    stale = not COMPOSE_FILE.exists() or COMPOSE_FILE.read_text(encoding="utf-8") != text
    if not check:
        COMPOSE_FILE.write_text(text, encoding="utf-8")
    written = [] if check else [str(COMPOSE_FILE)]
    output.files(
        "korpu redis-acl", written, [str(COMPOSE_FILE)] if check and stale else [], as_json
    )
    return 1 if check and stale else 0


def passwords(keys_dir: Path) -> dict[str, str]:
    """Every user's password for the embedded Redis of one data folder, made once.

    Kept in `keys_dir` (mode 0700), in a file only its owner may read (0600); a user
    added by a newer version gets its password the next time.
    """
    path = keys_dir / PASSWORDS_FILE
    known: dict[str, str] = json.loads(path.read_text()) if path.exists() else {}
    missing = [user for user in USERS if user not in known]
    if missing:
        known.update({user: secrets.token_urlsafe(32) for user in missing})
        private_folder(keys_dir)
        write_private(path, json.dumps(known, indent=2, sort_keys=True) + "\n")
    return {user: known[user] for user in USERS}


def private_folder(path: Path) -> None:
    """`path` and its parents made when missing; `path` itself 0700."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    path.chmod(0o700)


def write_private(path: Path, text: str) -> None:
    """Write `path` whole, created 0600: never readable by others, not for an instant."""
    # Created 0600, never readable by others for an instant; replaced whole.
    partial = path.with_name(path.name + ".partial")
    partial.unlink(missing_ok=True)
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as file:
        file.write(text)
    partial.replace(path)


def stored_passwords(keys_dir: Path) -> dict[str, str] | None:
    """The passwords `korpu up` made for this keys folder, or None when it made none."""
    path = keys_dir / PASSWORDS_FILE
    if not path.exists():
        return None
    known: dict[str, str] = json.loads(path.read_text())
    return known
