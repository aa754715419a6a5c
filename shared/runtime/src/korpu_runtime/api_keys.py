"""Organizations and their API keys, one design for every service: prefixed, stored
hashed, scoped, revocable, with a last-used time.

Each service keeps its own organizations and keys in its own database (`add_tables`)
and names its own scopes (a `Keyring`): the referral service's agencies, each
provider's case workers. A key is checked where it is used, with no call to
another service, so a key of one service means nothing to another.

Who a request comes from is a `Principal`: an organization, the scopes it holds, and
the actor behind it (an API key today; a person's signed-in session can carry the
same scopes later, as another `actor_kind`). Routes and audit trails see the
principal, never the key.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import secrets
import uuid
from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

KEY_PREFIX = "korpu_"
# The characters after `korpu_` shown to operators so they can tell keys apart;
# 8 of 43 random characters (48 bits) reveal nothing worth guessing from.
SHOWN_CHARACTERS = 8
# last_used_at is a hint for operators, not an audit trail: written at most once a
# minute per key. Rejected: a write on every request, which at 100+ submissions a
# second would contend with the requests themselves for SQLite's one writer.
LAST_USED_STEP = dt.timedelta(minutes=1)
# The actor kind of a principal authenticated by an API key.
API_KEY = "api_key"


class UnknownScope(ValueError):
    pass


@dataclasses.dataclass(frozen=True)
class Principal:
    """Who sends a request: an organization, its scopes, and the actor (kind and id).

    `actor_id` is a key's id for `actor_kind` API_KEY (never the key itself).
    """

    organization_id: str
    scopes: frozenset[str]
    actor_kind: str
    actor_id: str


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
    rate_per_minute: int | None = None  # None: the service's default rate limit


@dataclasses.dataclass(frozen=True)
class Organization:
    id: str
    name: str
    created_at: dt.datetime


@dataclasses.dataclass(frozen=True)
class Tables:
    organizations: sa.Table
    keys: sa.Table
    limits: sa.Table


def add_tables(metadata: sa.MetaData) -> Tables:
    """`organizations` and `organization_keys`, added to a service's own metadata."""
    organizations = sa.Table(
        "organizations",
        metadata,
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False, unique=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    # A new name rather than altering the referral service's first `api_keys` (one key
    # per organization, no id): chosen before migrations (docs/migrations.md), when
    # create_all added a table to an existing database but never a column.
    keys = sa.Table(
        "organization_keys",
        metadata,
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("organization_id", sa.ForeignKey("organizations.id"), nullable=False, index=True),
        sa.Column("prefix", sa.String(16), nullable=False),
        sa.Column("key_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("scopes", sa.String(200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_reason", sa.String(500), nullable=True),
    )
    # A key's own rate limit, where the default does not fit (a busy hotline, the
    # benchmark). A table of its own rather than a column on `organization_keys`:
    # chosen before migrations, when create_all never added a column to a table
    # that existed.
    limits = sa.Table(
        "organization_key_limits",
        metadata,
        sa.Column("key_id", sa.ForeignKey("organization_keys.id"), primary_key=True),
        sa.Column("rate_per_minute", sa.Integer, nullable=False),
        sa.Column("set_at", sa.DateTime(timezone=True), nullable=False),
    )
    return Tables(organizations, keys, limits)


def hash_key(api_key: str) -> str:
    # Keys are 256-bit random strings, so a fast hash is enough: there is nothing
    # to brute-force, unlike a password (a slow KDF would only cost every request).
    return hashlib.sha256(api_key.encode()).hexdigest()


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclasses.dataclass(frozen=True)
class Keyring:
    """One service's organizations and keys: its tables and the scopes it knows."""

    tables: Tables
    scopes: tuple[str, ...]  # every scope, in the order they are shown
    default_scopes: tuple[str, ...]  # a first key's, and a key's created without --scope

    def create_organization(
        self, conn: Connection, name: str, scopes: Iterable[str] | None = None
    ) -> tuple[str, str]:
        """A new organization and its first key, with `scopes` (by default the default
        scopes); returned once."""
        organization_id = str(uuid.uuid4())
        conn.execute(
            self.tables.organizations.insert().values(
                id=organization_id, name=name, created_at=now()
            )
        )
        wanted = self.default_scopes if scopes is None else scopes
        _, api_key = self.create_key(conn, organization_id, wanted)
        return organization_id, api_key

    def known(self, scopes: Iterable[str]) -> tuple[str, ...]:
        """The scopes in their shown order; UnknownScope for none or one not known here."""
        wanted = set(scopes)
        unknown = sorted(wanted - set(self.scopes))
        if unknown or not wanted:
            detail = f"unknown scope {', '.join(unknown)}" if unknown else "no scope"
            raise UnknownScope(f"{detail} (known: {', '.join(self.scopes)})")
        return tuple(scope for scope in self.scopes if scope in wanted)

    def create_key(
        self, conn: Connection, organization_id: str, scopes: Iterable[str]
    ) -> tuple[str, str]:
        """Another key for the organization (the old ones stay valid until revoked): (id, key)."""
        kept = self.known(scopes)
        key_id = str(uuid.uuid4())
        api_key = KEY_PREFIX + secrets.token_urlsafe(32)
        conn.execute(
            self.tables.keys.insert().values(
                id=key_id,
                organization_id=organization_id,
                prefix=api_key[len(KEY_PREFIX) :][:SHOWN_CHARACTERS],
                key_hash=hash_key(api_key),
                scopes=" ".join(kept),
                created_at=now(),
            )
        )
        return key_id, api_key

    def keys(self, conn: Connection, organization_id: str) -> list[Key]:
        c = self.tables.keys.c
        query = self._key_query().where(c.organization_id == organization_id)
        return [_key(row) for row in conn.execute(query.order_by(c.created_at))]

    def key(self, conn: Connection, key_id: str) -> Key | None:
        row = conn.execute(self._key_query().where(self.tables.keys.c.id == key_id)).first()
        return None if row is None else _key(row)

    def revoke(self, conn: Connection, key_id: str, reason: str) -> Key | None:
        """Revoke the key from now on; revoking it again keeps the first time and reason."""
        c = self.tables.keys.c
        conn.execute(
            self.tables.keys.update()
            .where(c.id == key_id, c.revoked_at.is_(None))
            .values(revoked_at=now(), revoked_reason=reason)
        )
        return self.key(conn, key_id)

    def authenticate(
        self, conn: Connection, api_key: str, at: dt.datetime | None = None
    ) -> Principal | None:
        """The principal behind a key, or None for an unknown or revoked one.

        One lookup by the key's hash for an unknown key and a known one alike: the
        time taken tells nothing of how close a guess came.
        """
        c = self.tables.keys.c
        row = conn.execute(
            sa.select(c.id, c.organization_id, c.scopes, c.last_used_at).where(
                c.key_hash == hash_key(api_key), c.revoked_at.is_(None)
            )
        ).first()
        if row is None:
            return None
        self._mark_used(conn, row.id, _utc(row.last_used_at), at or now())
        return Principal(
            organization_id=str(row.organization_id),
            scopes=frozenset(row.scopes.split()),
            actor_kind=API_KEY,
            actor_id=str(row.id),
        )

    def exists(self, conn: Connection, organization_id: str) -> bool:
        c = self.tables.organizations.c
        return conn.execute(sa.select(c.id).where(c.id == organization_id)).first() is not None

    def organizations(self, conn: Connection) -> list[Organization]:
        c = self.tables.organizations.c
        rows = conn.execute(sa.select(c.id, c.name, c.created_at).order_by(c.created_at))
        return [
            Organization(row.id, row.name, _utc(row.created_at) or row.created_at) for row in rows
        ]

    def set_rate(self, conn: Connection, key_id: str, per_minute: int | None) -> Key | None:
        """The key's own rate limit from now on (None: back to the service's default)."""
        if per_minute is not None and per_minute < 1:
            raise ValueError("a rate limit is at least 1 request a minute")
        limits = self.tables.limits
        if self.key(conn, key_id) is None:
            return None
        conn.execute(limits.delete().where(limits.c.key_id == key_id))
        if per_minute is not None:
            conn.execute(
                limits.insert().values(key_id=key_id, rate_per_minute=per_minute, set_at=now())
            )
        return self.key(conn, key_id)

    def raised_limits(self, conn: Connection) -> dict[str, int]:
        """Every live key's own rate limit per minute, by its hash (`hash_key`)."""
        c, limits = self.tables.keys.c, self.tables.limits
        query = (
            sa.select(c.key_hash, limits.c.rate_per_minute)
            .join_from(self.tables.keys, limits, limits.c.key_id == c.id)
            .where(c.revoked_at.is_(None))
        )
        return {row.key_hash: row.rate_per_minute for row in conn.execute(query)}

    def _mark_used(
        self, conn: Connection, key_id: str, last: dt.datetime | None, at: dt.datetime
    ) -> None:
        cutoff = at - LAST_USED_STEP
        if last is not None and last > cutoff:
            return
        c = self.tables.keys.c
        # The condition again in SQL: of replicas racing past the check above, one writes.
        conn.execute(
            self.tables.keys.update()
            .where(c.id == key_id, sa.or_(c.last_used_at.is_(None), c.last_used_at <= cutoff))
            .values(last_used_at=at)
        )

    def _key_query(self) -> sa.Select[Any]:
        c, limits = self.tables.keys.c, self.tables.limits
        return sa.select(
            c.id,
            c.organization_id,
            c.prefix,
            c.scopes,
            c.created_at,
            c.last_used_at,
            c.revoked_at,
            c.revoked_reason,
            limits.c.rate_per_minute,
        ).join_from(self.tables.keys, limits, limits.c.key_id == c.id, isouter=True)


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
        rate_per_minute=row.rate_per_minute,
    )


def _utc(value: dt.datetime | None) -> dt.datetime | None:
    # SQLite hands back naive datetimes; every time stored here is UTC.
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=dt.UTC)
