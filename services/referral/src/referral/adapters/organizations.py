"""Organizations and their API keys: prefixed, stored hashed, scoped, revocable."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import secrets
import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from referral.adapters import tables
from referral.adapters.repository import now

KEY_PREFIX = "korpu_"
# The characters after `korpu_` shown to operators so they can tell keys apart;
# 8 of 43 random characters (48 bits) reveal nothing worth guessing from.
SHOWN_CHARACTERS = 8
SUBMIT = "referrals:submit"  # POST a referral, withdraw one
READ = "referrals:read"  # GET a referral
# GET a referral's person: the personal data the organization itself sent. Apart
# from READ so a dashboard following progress never holds a key to names.
PERSONS = "persons:read"
# GET /v1/statistics: the administrators' figures across every organization.
# Given only when asked for (`korpu org keys create ORG --scope statistics:read`).
STATISTICS = "statistics:read"
SCOPES = (SUBMIT, READ, PERSONS, STATISTICS)
# What a new organization's first key, and a key created without --scope, holds.
DEFAULT_SCOPES = (SUBMIT, READ, PERSONS)
# last_used_at is a hint for operators, not an audit trail: written at most once a
# minute per key. Rejected: a write on every request, which at 100+ submissions a
# second would contend with the referrals themselves for SQLite's one writer.
LAST_USED_STEP = dt.timedelta(minutes=1)


class UnknownScope(ValueError):
    pass


@dataclasses.dataclass(frozen=True)
class Caller:
    """Who sent a request: the key's id (never the key), its organization and scopes."""

    key_id: str
    organization_id: str
    scopes: frozenset[str]


@dataclasses.dataclass(frozen=True)
class Key:
    """A key as operators see it: never its hash, never the key itself."""

    id: str
    organization_id: str
    prefix: str
    scopes: tuple[str, ...]
    created_at: dt.datetime
    last_used_at: dt.datetime | None
    revoked_at: dt.datetime | None
    revoked_reason: str | None


def hash_key(api_key: str) -> str:
    # Keys are 256-bit random strings, so a fast hash is enough: there is nothing
    # to brute-force, unlike a password (a slow KDF would only cost every request).
    return hashlib.sha256(api_key.encode()).hexdigest()


def create(conn: Connection, name: str) -> tuple[str, str]:
    """A new organization and its first key, with the default scopes; returned once."""
    organization_id = str(uuid.uuid4())
    conn.execute(
        tables.organizations.insert().values(id=organization_id, name=name, created_at=now())
    )
    _, api_key = create_key(conn, organization_id, DEFAULT_SCOPES)
    return organization_id, api_key


def create_key(conn: Connection, organization_id: str, scopes: tuple[str, ...]) -> tuple[str, str]:
    """Another key for the organization (the old ones stay valid until revoked): (id, key)."""
    unknown = sorted(set(scopes) - set(SCOPES))
    if unknown or not scopes:
        raise UnknownScope(f"unknown scope {', '.join(unknown)}" if unknown else "no scope")
    key_id = str(uuid.uuid4())
    api_key = KEY_PREFIX + secrets.token_urlsafe(32)
    conn.execute(
        tables.api_keys.insert().values(
            id=key_id,
            organization_id=organization_id,
            prefix=api_key[len(KEY_PREFIX) :][:SHOWN_CHARACTERS],
            key_hash=hash_key(api_key),
            scopes=" ".join(scope for scope in SCOPES if scope in scopes),
            created_at=now(),
        )
    )
    return key_id, api_key


def keys(conn: Connection, organization_id: str) -> list[Key]:
    query = _key_query().where(tables.api_keys.c.organization_id == organization_id)
    return [_key(row) for row in conn.execute(query.order_by(tables.api_keys.c.created_at))]


def key(conn: Connection, key_id: str) -> Key | None:
    row = conn.execute(_key_query().where(tables.api_keys.c.id == key_id)).first()
    return None if row is None else _key(row)


def revoke(conn: Connection, key_id: str, reason: str) -> Key | None:
    """Revoke the key from now on; revoking it again keeps the first time and reason."""
    conn.execute(
        tables.api_keys.update()
        .where(tables.api_keys.c.id == key_id, tables.api_keys.c.revoked_at.is_(None))
        .values(revoked_at=now(), revoked_reason=reason)
    )
    return key(conn, key_id)


def authenticate(conn: Connection, api_key: str, at: dt.datetime | None = None) -> Caller | None:
    """The caller behind a key, or None for an unknown or revoked one."""
    c = tables.api_keys.c
    row = conn.execute(
        sa.select(c.id, c.organization_id, c.scopes, c.last_used_at).where(
            c.key_hash == hash_key(api_key), c.revoked_at.is_(None)
        )
    ).first()
    if row is None:
        return None
    _mark_used(conn, row.id, _utc(row.last_used_at), at or now())
    return Caller(str(row.id), str(row.organization_id), frozenset(row.scopes.split()))


def _mark_used(conn: Connection, key_id: str, last: dt.datetime | None, at: dt.datetime) -> None:
    cutoff = at - LAST_USED_STEP
    if last is not None and last > cutoff:
        return
    c = tables.api_keys.c
    # The condition again in SQL: of replicas racing past the check above, one writes.
    conn.execute(
        tables.api_keys.update()
        .where(c.id == key_id, sa.or_(c.last_used_at.is_(None), c.last_used_at <= cutoff))
        .values(last_used_at=at)
    )


def exists(conn: Connection, organization_id: str) -> bool:
    return name(conn, organization_id) is not None


def name(conn: Connection, organization_id: str) -> str | None:
    """The organization's name as it was created; None when there is no such organization."""
    query = sa.select(tables.organizations.c.name).where(
        tables.organizations.c.id == organization_id
    )
    found: str | None = conn.execute(query).scalar_one_or_none()
    return found


def _key_query() -> sa.Select[Any]:
    c = tables.api_keys.c
    return sa.select(
        c.id,
        c.organization_id,
        c.prefix,
        c.scopes,
        c.created_at,
        c.last_used_at,
        c.revoked_at,
        c.revoked_reason,
    )


def _key(row: sa.Row[Any]) -> Key:
    return Key(
        id=row.id,
        organization_id=row.organization_id,
        prefix=row.prefix,
        scopes=tuple(row.scopes.split()),
        created_at=_utc(row.created_at) or row.created_at,
        last_used_at=_utc(row.last_used_at),
        revoked_at=_utc(row.revoked_at),
        revoked_reason=row.revoked_reason,
    )


def _utc(value: dt.datetime | None) -> dt.datetime | None:
    # SQLite hands back naive datetimes; every time stored here is UTC.
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=dt.UTC)
