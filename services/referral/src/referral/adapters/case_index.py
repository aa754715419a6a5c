"""The national coordinator's list of cases across organizations: ids, codes and times only.

Never a person: no name, birth date, phone or note is selected here, and the
persons table is never joined. Newest first, a page at a time by a cursor (the
last case's received time and id), so a page stays right while cases arrive.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import enum
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from korpu_contracts import regions
from korpu_contracts.vocabulary import Flag, ReferralStatus, SafetyRisk, TaskStatus
from referral.adapters import action_needed, tables


class CaseFlag(enum.StrEnum):
    """The list's flags: coarse facts the coordinator sorts cases by."""

    CHILD = "child"
    HIGH_RISK = "high_risk"
    POSSIBLE_DUPLICATE = str(Flag.POSSIBLE_DUPLICATE)
    CONSENT_REVIEW_DUE = str(Flag.CONSENT_REVIEW_DUE)


CHILD, HIGH_RISK = CaseFlag.CHILD, CaseFlag.HIGH_RISK
POSSIBLE_DUPLICATE, CONSENT_REVIEW_DUE = CaseFlag.POSSIBLE_DUPLICATE, CaseFlag.CONSENT_REVIEW_DUE
WAITING = (str(TaskStatus.REQUESTED), str(TaskStatus.ON_HOLD))
MOST = 200

_r = tables.referrals.c


class BadCursor(ValueError):
    pass


@dataclass(frozen=True)
class Filters:
    status: str | None = None
    region: str | None = None
    agency_reference: str | None = None
    flag: CaseFlag | None = None
    identification: str | None = None
    # Only cases whose person has waited at least this long for a service's answer.
    waiting_over: dt.timedelta | None = None

    def used(self) -> list[str]:
        """The names of the filters given (for the audit trail: names, not values)."""
        return [name for name, value in vars(self).items() if value is not None]


@dataclass(frozen=True)
class Case:
    row: sa.Row[Any]
    organization_name: str
    flags: list[CaseFlag]
    waiting: bool


def encode_cursor(received_at: dt.datetime, referral_id: str) -> str:
    raw = f"{action_needed.utc(received_at).isoformat()}|{referral_id}"
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[dt.datetime, str]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        at, _, referral_id = raw.partition("|")
        return dt.datetime.fromisoformat(at), referral_id
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise BadCursor from None


def _waiting_task() -> sa.Exists:
    t = tables.tasks.c
    return sa.exists().where(t.referral_id == _r.id, t.status.in_(WAITING))


def _open_flag(kind: str) -> sa.Exists:
    f = tables.flags.c
    return sa.exists().where(f.referral_id == _r.id, f.kind == kind, f.resolved_at.is_(None))


def _in_review() -> sa.ColumnElement[bool]:
    v = tables.reviews.c
    pending = sa.exists().where(v.referral_id == _r.id, v.resolved_at.is_(None))
    return sa.and_(pending, _r.status == str(ReferralStatus.IN_REVIEW))


def _flag_condition(flag: CaseFlag) -> sa.ColumnElement[bool]:
    if flag == CHILD:
        return _r.is_child.is_(True)
    if flag == HIGH_RISK:
        return _r.safety_risk == str(SafetyRisk.HIGH)
    if flag == POSSIBLE_DUPLICATE:
        return sa.or_(_in_review(), _open_flag(POSSIBLE_DUPLICATE))
    return _open_flag(flag)


def _where(filters: Filters, now: dt.datetime) -> list[sa.ColumnElement[bool]]:
    found: list[sa.ColumnElement[bool]] = []
    if filters.status is not None:
        found.append(_r.status == filters.status)
    if filters.region is not None:
        # A case stored before regions were codes holds the region's name.
        found.append(_r.region.in_({filters.region, regions.code_or_as_sent(filters.region)}))
    if filters.agency_reference is not None:
        found.append(_r.agency_reference == filters.agency_reference)
    if filters.flag is not None:
        found.append(_flag_condition(filters.flag))
    if filters.identification is not None:
        found.append(_r.identification == filters.identification)
    if filters.waiting_over is not None:
        found += [_waiting_task(), _r.created_at <= now - filters.waiting_over]
    return found


def search(
    conn: Connection, filters: Filters, now: dt.datetime, limit: int, cursor: str | None = None
) -> tuple[list[Case], str | None]:
    """A page of cases, newest first, and the cursor of the next page (None: the last)."""
    organizations = tables.organizations
    query = (
        sa.select(tables.referrals, organizations.c.name.label("organization_name"))
        .join(organizations, organizations.c.id == _r.organization_id)
        .where(*_where(filters, now))
        .order_by(_r.created_at.desc(), _r.id.desc())
        .limit(limit + 1)
    )
    if cursor is not None:
        at, last_id = decode_cursor(cursor)
        query = query.where(
            sa.or_(_r.created_at < at, sa.and_(_r.created_at == at, _r.id < last_id))
        )
    rows = list(conn.execute(query))
    more = len(rows) > limit
    rows = rows[:limit]
    cases = _described(conn, rows)
    last = rows[-1] if more else None
    return cases, None if last is None else encode_cursor(last.created_at, last.id)


def one(conn: Connection, referral_id: str) -> Case | None:
    organizations = tables.organizations
    query = (
        sa.select(tables.referrals, organizations.c.name.label("organization_name"))
        .join(organizations, organizations.c.id == _r.organization_id)
        .where(_r.id == referral_id)
    )
    row = conn.execute(query).first()
    return None if row is None else _described(conn, [row])[0]


def _described(conn: Connection, rows: Sequence[sa.Row[Any]]) -> list[Case]:
    ids = [row.id for row in rows]
    if not ids:
        return []
    f, v, t = tables.flags.c, tables.reviews.c, tables.tasks.c
    open_flags: dict[str, set[str]] = {}
    query = sa.select(f.referral_id, f.kind).where(f.referral_id.in_(ids), f.resolved_at.is_(None))
    for referral_id, kind in conn.execute(query):
        open_flags.setdefault(referral_id, set()).add(kind)
    pending = sa.select(v.referral_id).where(v.referral_id.in_(ids), v.resolved_at.is_(None))
    in_review = set(conn.execute(pending).scalars())
    waiting_query = sa.select(t.referral_id).where(t.referral_id.in_(ids), t.status.in_(WAITING))
    waiting = set(conn.execute(waiting_query).scalars())
    cases = []
    for row in rows:
        kinds = open_flags.get(row.id, set())
        if row.id in in_review and row.status == ReferralStatus.IN_REVIEW:
            kinds = kinds | {POSSIBLE_DUPLICATE}
        shown = [
            *([CHILD] if row.is_child else []),
            *([HIGH_RISK] if row.safety_risk == SafetyRisk.HIGH else []),
            *(flag for flag in (POSSIBLE_DUPLICATE, CONSENT_REVIEW_DUE) if flag in kinds),
        ]
        cases.append(Case(row, row.organization_name, shown, row.id in waiting))
    return cases
