"""Who may use the console: accounts, argon2id passwords, lockout, and sessions that expire.

Every sign-in, refused or not, and every sign-out is written to the audit trail in the
same transaction as its effect. A refusal never says whether the name exists.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import hashlib
import re
import secrets
from typing import Any, NoReturn

import argon2
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from korpu.console import delegation, tables
from korpu.console.settings import ConsoleSettings
from korpu_runtime import audit

# Lower-case letters, digits, dot, dash, underscore: a name that is safe in a log, a
# URL and the audit trail as it is.
NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")
PASSWORD_MIN, PASSWORD_MAX = 12, 1024
# Who acts in the console's audit trail.
ACTOR_KIND = "console_user"
# How often a session's last request is written: not on every page of a refreshing view.
SEEN_EVERY = dt.timedelta(seconds=30)

# argon2-cffi's defaults are argon2id with RFC 9106's low-memory parameters.
_hasher = argon2.PasswordHasher()
# Checked against when the name is unknown, so a refusal takes as long either way.
_NOBODY = _hasher.hash(secrets.token_urlsafe(16))


class Role(enum.StrEnum):
    VIEWER = "viewer"  # sees the queues' pages
    OPERATOR = "operator"  # also replays, discards and recovers
    # Acts for one provider organization (korpu.console.delegation): its tasks only.
    CASE_WORKER = "case_worker"
    # The national coordinator: every case, the action-needed queue, identification.
    COORDINATOR = "coordinator"


# The roles that act through a service's API with a key of their own.
TIED = (Role.CASE_WORKER, Role.COORDINATOR)


class AccountError(ValueError):
    """A name, role or password the console does not take; the text says why."""


class SignInRefused(Exception):
    """Wrong name or password, a locked or disabled account: one answer for all."""


@dataclasses.dataclass(frozen=True)
class User:
    name: str
    role: Role
    language: str | None = None
    tie: delegation.Tie | None = None

    @property
    def may_act(self) -> bool:
        """Replays, discards, recovers: an operator alone."""
        return self.role is Role.OPERATOR

    @property
    def watches_queues(self) -> bool:
        """The queues' pages: operators and viewers, not case workers or coordinators."""
        return self.role in (Role.VIEWER, Role.OPERATOR)

    def actor(self) -> audit.Actor:
        return audit.Actor(ACTOR_KIND, self.name)


@dataclasses.dataclass(frozen=True)
class Session:
    user: User
    csrf_token: str
    expires_at: dt.datetime


def check_name(name: str) -> str:
    if not NAME.match(name):
        raise AccountError(
            "a name is 2-64 characters: lower-case letters, digits, '.', '-' and '_', "
            "starting with a letter or digit"
        )
    return name


def check_password(password: str) -> str:
    if not PASSWORD_MIN <= len(password) <= PASSWORD_MAX:
        raise AccountError(f"a password is {PASSWORD_MIN} to {PASSWORD_MAX} characters")
    return password


def new_password() -> str:
    """One for a person to change later: 24 characters, 144 bits."""
    return secrets.token_urlsafe(18)


def create(
    conn: Connection,
    name: str,
    role: Role,
    password: str,
    tie: delegation.Tie | None = None,
    sealed_key: bytes | None = None,
) -> User:
    """An account; a case worker's or coordinator's with its `tie` and sealed key."""
    check_name(name)
    if (role in TIED) != (tie is not None and sealed_key is not None):
        raise AccountError(f"a {role} acts for an organization, and only they do")
    exists = conn.execute(sa.select(tables.users.c.name).where(tables.users.c.name == name))
    if exists.first() is not None:
        raise AccountError(f"{name!r} exists already")
    conn.execute(
        tables.users.insert(),
        {
            "name": name,
            "role": str(role),
            "password_hash": _hasher.hash(check_password(password)),
            "created_at": _now(),
            **_tie_values(tie),
            "sealed_key": sealed_key,
        },
    )
    detail = {"role": str(role), **({} if tie is None else _tie_detail(tie))}
    tables.TRAIL.record(conn, audit.operator(), "user_created", name, detail)
    return User(name, role, tie=tie)


def _tie_values(tie: delegation.Tie | None) -> dict[str, Any]:
    if tie is None:
        return {}
    return {
        "service": tie.service,
        "organization_id": tie.organization_id,
        "key_id": tie.key_id,
        "entries": list(tie.entries),
    }


def _tie_detail(tie: delegation.Tie) -> dict[str, Any]:
    return {"service": tie.service, "organization_id": tie.organization_id, "key_id": tie.key_id}


def _tie(row: Any) -> delegation.Tie | None:
    if row.service is None:
        return None
    entries = tuple(str(entry) for entry in row.entries or ())
    return delegation.Tie(row.service, row.organization_id, row.key_id, entries)


def sealed_key(conn: Connection, name: str) -> bytes | None:
    """The account's own key at its service, sealed (korpu.console.delegation)."""
    found = conn.execute(
        sa.select(tables.users.c.sealed_key).where(tables.users.c.name == name)
    ).scalar_one_or_none()
    return None if found is None else bytes(found)


def set_password(conn: Connection, name: str, password: str) -> None:
    """A new password, which also lifts a lock and signs the person out everywhere."""
    changed = conn.execute(
        tables.users.update()
        .where(tables.users.c.name == name)
        .values(password_hash=_hasher.hash(check_password(password)), failures=0, locked_until=None)
    )
    if not changed.rowcount:
        raise AccountError(f"no user {name!r}")
    conn.execute(tables.sessions.delete().where(tables.sessions.c.user_name == name))
    tables.TRAIL.record(conn, audit.operator(), "password_set", name)


def disable(conn: Connection, name: str) -> delegation.Tie | None:
    """No more sign-ins, and every session of the person ends now; the account's tie, whose
    key the caller revokes at its service."""
    row = conn.execute(sa.select(tables.users).where(tables.users.c.name == name)).first()
    if row is None:
        raise AccountError(f"no user {name!r}")
    conn.execute(
        tables.users.update()
        .where(tables.users.c.name == name)
        .values(disabled_at=_now(), sealed_key=None)
    )
    conn.execute(tables.sessions.delete().where(tables.sessions.c.user_name == name))
    tables.TRAIL.record(conn, audit.operator(), "user_disabled", name)
    return _tie(row)


def listing(conn: Connection) -> list[dict[str, Any]]:
    c = tables.users.c
    rows = conn.execute(
        sa.select(
            c.name, c.role, c.created_at, c.disabled_at, c.locked_until, c.service,
            c.organization_id,
        ).order_by(c.name)
    )  # fmt: skip
    return [
        {
            "name": row.name,
            "role": row.role,
            "created_at": _aware(row.created_at).isoformat(),
            "disabled": row.disabled_at is not None,
            "service": row.service,
            "organization_id": row.organization_id,
            "locked_until": _aware(row.locked_until).isoformat()
            if row.locked_until and _aware(row.locked_until) > _now()
            else None,
        }
        for row in rows
    ]


def sign_in(
    conn: Connection, settings: ConsoleSettings, name: str, password: str
) -> tuple[Session, str]:
    """A new session and its cookie token, or SignInRefused (recorded either way).

    The caller commits even on a refusal: the failure count and its record must stay.
    """
    now = _now()
    row = conn.execute(sa.select(tables.users).where(tables.users.c.name == name)).first()
    if row is None:
        _spend_time(password)
        _refused(conn, name if NAME.match(name) else None, "unknown_name")
    elif row.disabled_at is not None:
        _spend_time(password)
        _refused(conn, name, "disabled")
    elif row.locked_until is not None and _aware(row.locked_until) > now:
        # Not even checked: a guess during the lock tells nothing, right or wrong.
        _spend_time(password)
        _refused(conn, name, "locked")
    elif not _matches(row.password_hash, password):
        _failed(conn, settings, name, row.failures + 1, now)
    assert row is not None
    updates: dict[str, Any] = {"failures": 0, "locked_until": None}
    if _hasher.check_needs_rehash(row.password_hash):
        updates["password_hash"] = _hasher.hash(password)
    conn.execute(tables.users.update().where(tables.users.c.name == name).values(**updates))
    token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    # From now, after the password's check (which takes its time), not from the request.
    now = _now()
    expires = now + dt.timedelta(hours=settings.session_hours)
    conn.execute(
        tables.sessions.insert(),
        {
            "token_hash": _hash(token),
            "user_name": name,
            "csrf_token": csrf,
            "created_at": now,
            "expires_at": expires,
            "last_seen_at": now,
        },
    )
    user = User(name, Role(row.role), row.language, _tie(row))
    tables.TRAIL.record(conn, user.actor(), "signed_in", name)
    return Session(user, csrf, expires), token


def _matches(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except argon2.exceptions.VerificationError:
        return False
    except argon2.exceptions.InvalidHashError:
        return False


def _spend_time(password: str) -> None:
    _matches(_NOBODY, password)


def _failed(
    conn: Connection, settings: ConsoleSettings, name: str, failures: int, now: dt.datetime
) -> NoReturn:
    locked = failures >= settings.lockout_failures
    values: dict[str, Any] = {"failures": 0 if locked else failures}
    if locked:
        values["locked_until"] = now + dt.timedelta(minutes=settings.lockout_minutes)
    conn.execute(tables.users.update().where(tables.users.c.name == name).values(**values))
    _refused(conn, name, "locked_now" if locked else "wrong_password")


def _refused(conn: Connection, name: str | None, why: str) -> NoReturn:
    # An unknown name is not recorded as typed (it may be a password typed in the
    # wrong field); a well-formed one is, to see guessing against one account.
    actor = audit.Actor(ACTOR_KIND, name or "(unknown)")
    tables.TRAIL.record(conn, actor, "sign_in_refused", name, {"why": why})
    raise SignInRefused()


def session(conn: Connection, settings: ConsoleSettings, token: str) -> Session | None:
    """The live session of this cookie token; None when unknown, expired or idle too long."""
    now = _now()
    s, u = tables.sessions.c, tables.users.c
    row = conn.execute(
        sa.select(
            s.token_hash,
            s.csrf_token,
            s.expires_at,
            s.last_seen_at,
            u.name,
            u.role,
            u.language,
            u.service,
            u.organization_id,
            u.entries,
            u.key_id,
        )
        .join(tables.users, u.name == s.user_name)
        .where(s.token_hash == _hash(token), u.disabled_at.is_(None))
    ).first()
    if row is None:
        return None
    idle_until = _aware(row.last_seen_at) + dt.timedelta(minutes=settings.session_idle_minutes)
    if _aware(row.expires_at) <= now or idle_until <= now:
        conn.execute(tables.sessions.delete().where(s.token_hash == row.token_hash))
        return None
    if now - _aware(row.last_seen_at) > SEEN_EVERY:
        conn.execute(
            tables.sessions.update().where(s.token_hash == row.token_hash).values(last_seen_at=now)
        )
    user = User(row.name, Role(row.role), row.language, _tie(row))
    return Session(user, row.csrf_token, _aware(row.expires_at))


def set_language(conn: Connection, user: User, language: str) -> None:
    conn.execute(
        tables.users.update().where(tables.users.c.name == user.name).values(language=language)
    )


def sign_out(conn: Connection, token: str, user: User) -> None:
    conn.execute(tables.sessions.delete().where(tables.sessions.c.token_hash == _hash(token)))
    tables.TRAIL.record(conn, user.actor(), "signed_out", user.name)


def record(
    conn: Connection, user: User, action: str, target: str | None, detail: dict[str, Any]
) -> None:
    """An action taken from a page, in the audit trail."""
    tables.TRAIL.record(conn, user.actor(), action, target, detail)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _aware(moment: dt.datetime) -> dt.datetime:
    # SQLite hands back naive datetimes; every time stored is UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)
