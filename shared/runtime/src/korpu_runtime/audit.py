"""An audit trail, one shape for every service: who did what, when, about what.

Append-only: rows are only ever inserted, and the database itself refuses an
UPDATE or DELETE (`append_only.protect`). Each service names the column that says
what an entry is about (`subject`): the referral service a referral, a provider a
task. Nothing personal goes into a row: ids, the action, and a detail of ids and
codes.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import getpass
import socket
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from korpu_runtime import append_only
from korpu_runtime.api_keys import API_KEY, Principal

# Who acts, besides an API key (`api_keys.API_KEY`): a person at the CLI, the
# service itself (a sweep, a timer).
OPERATOR = "operator"
SYSTEM = "system"


@dataclasses.dataclass(frozen=True)
class Actor:
    """Who acted: a principal's actor (an API key and its organization), an operator, ..."""

    kind: str
    id: str  # the key's id, the operator's login and host, ...
    organization_id: str | None = None


def of(principal: Principal) -> Actor:
    return Actor(principal.actor_kind, principal.actor_id, principal.organization_id)


def api_key(key_id: str, organization_id: str) -> Actor:
    return Actor(API_KEY, key_id, organization_id)


def operator() -> Actor:
    """The person running a `korpu` command on this machine: login and host."""
    return Actor(OPERATOR, f"{getpass.getuser()}@{socket.gethostname()}")


def add_table(metadata: sa.MetaData, subject: str, subject_length: int = 36) -> sa.Table:
    """The `audit_log` table, append-only, its entries about a `subject` id (nullable)."""
    table = sa.Table(
        "audit_log",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False, index=True),
        sa.Column("actor_kind", sa.String(20), nullable=False),
        sa.Column("actor_id", sa.String(200), nullable=False),
        sa.Column("organization_id", sa.String(36), nullable=True),
        # No foreign key: the trail outlives what it tells of.
        sa.Column(subject, sa.String(subject_length), nullable=True, index=True),
        sa.Column("action", sa.String(40), nullable=False),
        sa.Column("detail", sa.JSON, nullable=False),
    )
    append_only.protect(table)
    return table


@dataclasses.dataclass(frozen=True)
class Trail:
    """A service's audit table and the name of its subject column."""

    table: sa.Table
    subject: str

    def record(
        self,
        conn: Connection,
        actor: Actor,
        action: str,
        subject: str | None = None,
        detail: dict[str, Any] | None = None,
    ) -> None:
        """One entry, written in the caller's transaction: no change without its record."""
        conn.execute(
            self.table.insert(),
            {
                "at": dt.datetime.now(dt.UTC),
                "actor_kind": actor.kind,
                "actor_id": actor.id,
                "organization_id": actor.organization_id,
                self.subject: subject,
                "action": action,
                "detail": detail or {},
            },
        )

    def entries(self, conn: Connection, where: Filter) -> list[Entry]:
        """The newest `limit` entries that match, oldest first (the order things happened)."""
        c = self.table.c
        conditions: list[sa.ColumnElement[bool]] = []
        if where.subject is not None:
            conditions.append(c[self.subject] == where.subject)
        if where.organization_id is not None:
            conditions.append(c.organization_id == where.organization_id)
        if where.since is not None:
            conditions.append(c.at >= where.since)
        if where.action is not None:
            conditions.append(c.action == where.action)
        # The id orders entries written in the same instant as they were written.
        newest = sa.select(self.table).where(*conditions).order_by(c.id.desc())
        rows = conn.execute(newest.limit(where.limit)).all()
        return [self._entry(row) for row in reversed(rows)]

    def _entry(self, row: sa.Row[Any]) -> Entry:
        at: dt.datetime = row.at
        # SQLite hands back naive datetimes; every time stored is UTC.
        return Entry(
            id=row.id,
            at=at if at.tzinfo else at.replace(tzinfo=dt.UTC),
            actor_kind=row.actor_kind,
            actor_id=row.actor_id,
            organization_id=row.organization_id,
            subject=row._mapping[self.subject],
            action=row.action,
            detail=dict(row.detail or {}),
        )


@dataclasses.dataclass(frozen=True)
class Entry:
    id: int
    at: dt.datetime
    actor_kind: str
    actor_id: str
    organization_id: str | None
    subject: str | None  # the referral, the task, ... the entry is about
    action: str
    detail: dict[str, Any]


@dataclasses.dataclass(frozen=True)
class Filter:
    subject: str | None = None
    organization_id: str | None = None
    since: dt.datetime | None = None
    action: str | None = None
    limit: int = 1000
