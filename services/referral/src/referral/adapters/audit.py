"""The audit trail: every read and change of personal data, who, when, which referral, what.

Append-only: rows are only ever inserted, and the database itself refuses an
UPDATE or DELETE (`append_only.protect`, on the table in tables.py). Nothing
personal goes into a row; the referral id says whose data it was, the action and
detail say what was done. So an erasure leaves the trail as it is: it tells
that the person was read, changed and erased, never who the person was.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import getpass
import socket
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from referral.adapters import tables
from referral.adapters.repository import now

# Who acts. `bus`: an agency system on the intake stream, named by the
# organization its command carries (there is no key on the bus: the Redis ACL
# user that may add to the intake stream is the credential).
API_KEY = "api_key"
OPERATOR = "operator"
BUS = "bus"
SYSTEM = "system"

# What was done. Past tense, like events: the entry tells what happened.
SUBMITTED = "referral_submitted"
VIEWED = "referral_viewed"
PERSON_VIEWED = "person_viewed"
WITHDRAWN = "referral_withdrawn"
# An intake entry that could not become a referral, kept whole (it may name a person).
INTAKE_ENTRY_KEPT = "intake_entry_kept"
# A key tried to read a case it may not see (another organization's, or one that
# does not exist): an auditor wants to know who probes for victims' cases.
ACCESS_DENIED = "access_denied"
# Consent for one purpose changed by the agency (detail: purpose, consent, changed).
CONSENT_CHANGED = "consent_changed"
# The agency said a referral linked as a duplicate is another person: coordinated.
DUPLICATE_OVERRULED = "duplicate_overruled"
# An operator said whether a referral in review for a match with another
# organization's open case is the same person (detail: resolution, the case matched).
DUPLICATE_RESOLVED = "duplicate_resolved"
# The sweep for children turning 18 read birth dates (detail: how many cases), and
# flagged one that did; it reads no more than the birth date.
BIRTH_DATES_READ = "birth_dates_read"
CONSENT_REVIEW_FLAGGED = "consent_review_flagged"


@dataclasses.dataclass(frozen=True)
class Actor:
    """Who acted: an API key (its id and organization) or an operator at the CLI."""

    kind: str  # API_KEY, OPERATOR, BUS or SYSTEM
    id: str  # the key's id, the operator's login and host, the organization on the bus
    organization_id: str | None = None


def operator() -> Actor:
    """The person running a `korpu` command on this machine: login and host."""
    return Actor(OPERATOR, f"{getpass.getuser()}@{socket.gethostname()}")


def api_key(key_id: str, organization_id: str) -> Actor:
    return Actor(API_KEY, key_id, organization_id)


def record(
    conn: Connection,
    actor: Actor,
    action: str,
    referral_id: str | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    """One entry, written in the caller's transaction: no change without its record."""
    conn.execute(
        tables.audit_log.insert(),
        dict(
            at=now(),
            actor_kind=actor.kind,
            actor_id=actor.id,
            organization_id=actor.organization_id,
            referral_id=referral_id,
            action=action,
            detail=detail or {},
        ),
    )


@dataclasses.dataclass(frozen=True)
class Entry:
    id: int
    at: dt.datetime
    actor_kind: str
    actor_id: str
    organization_id: str | None
    referral_id: str | None
    action: str
    detail: dict[str, Any]


@dataclasses.dataclass(frozen=True)
class Filter:
    referral_id: str | None = None
    organization_id: str | None = None
    since: dt.datetime | None = None
    action: str | None = None
    limit: int = 1000


def entries(conn: Connection, where: Filter) -> list[Entry]:
    """The newest `limit` entries that match, oldest first (the order things happened)."""
    c = tables.audit_log.c
    conditions: list[sa.ColumnElement[bool]] = []
    if where.referral_id is not None:
        conditions.append(c.referral_id == where.referral_id)
    if where.organization_id is not None:
        conditions.append(c.organization_id == where.organization_id)
    if where.since is not None:
        conditions.append(c.at >= where.since)
    if where.action is not None:
        conditions.append(c.action == where.action)
    # The id orders entries written in the same instant as they were written.
    newest = sa.select(tables.audit_log).where(*conditions).order_by(c.id.desc())
    rows = conn.execute(newest.limit(where.limit)).all()
    return [_entry(row) for row in reversed(rows)]


def _entry(row: sa.Row[Any]) -> Entry:
    at: dt.datetime = row.at
    # SQLite hands back naive datetimes; every time stored is UTC.
    return Entry(
        id=row.id,
        at=at if at.tzinfo else at.replace(tzinfo=dt.UTC),
        actor_kind=row.actor_kind,
        actor_id=row.actor_id,
        organization_id=row.organization_id,
        referral_id=row.referral_id,
        action=row.action,
        detail=dict(row.detail or {}),
    )
