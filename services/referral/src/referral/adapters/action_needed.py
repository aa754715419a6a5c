"""What the Action needed queue is built from: open tasks and since when, reviews, flags,
recovery periods; and which items were escalated already. Ids and times only."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from korpu_contracts.vocabulary import ActionNeeded, Flag, ReferralStatus, TaskStatus
from referral.adapters import reviews, tables
from referral.domain import action_needed, model

_ENDED = [str(status) for status in model.ENDED_STATUSES]
_WAITING = (TaskStatus.REQUESTED, TaskStatus.ON_HOLD)


def utc(at: dt.datetime) -> dt.datetime:
    # SQLite hands back naive datetimes; every time stored is UTC.
    return at.astimezone(dt.UTC) if at.tzinfo else at.replace(tzinfo=dt.UTC)


def open_tasks(conn: Connection) -> list[action_needed.OpenTask]:
    """Every task requested or on a waitlist, of a case still open.

    Since when: a requested task's `updated_at` (nothing changed since it was
    asked), an on-hold task's last step into `on-hold` in the history: a waitlist
    position that moved changes `updated_at`, not how long the person has waited.
    """
    tasks, referrals, history = tables.tasks, tables.referrals, tables.history
    on_hold_since = (
        sa.select(history.c.referral_id, history.c.service, sa.func.max(history.c.at).label("at"))
        .where(history.c.status == str(TaskStatus.ON_HOLD))
        .group_by(history.c.referral_id, history.c.service)
        .subquery()
    )
    query = (
        sa.select(
            tasks.c.referral_id,
            tasks.c.service,
            tasks.c.status,
            tasks.c.updated_at,
            on_hold_since.c.at,
            referrals.c.safety_risk,
        )
        .join(referrals, referrals.c.id == tasks.c.referral_id)
        .outerjoin(
            on_hold_since,
            sa.and_(
                on_hold_since.c.referral_id == tasks.c.referral_id,
                on_hold_since.c.service == tasks.c.service,
            ),
        )
        .where(
            tasks.c.status.in_([str(status) for status in _WAITING]),
            referrals.c.status.not_in(_ENDED),
        )
    )
    return [_open_task(row) for row in conn.execute(query)]


def _open_task(row: Any) -> action_needed.OpenTask:
    status = TaskStatus(row.status)
    since = row.at if status is TaskStatus.ON_HOLD and row.at is not None else row.updated_at
    return action_needed.OpenTask(row.referral_id, row.service, status, utc(since), row.safety_risk)


def review_items(conn: Connection) -> list[action_needed.Item]:
    """Referrals waiting in review for a match with another organization's open case."""
    return [
        action_needed.Item(utc(p.raised_at), ActionNeeded.POSSIBLE_DUPLICATE, p.referral_id)
        for p in reviews.pending(conn)
    ]


def coming_of_age_items(conn: Connection) -> list[action_needed.Item]:
    """Children who turned 18 with their case open, until the agency has asked them."""
    flags, referrals = tables.flags, tables.referrals
    query = (
        sa.select(flags.c.referral_id, flags.c.raised_at)
        .join(referrals, referrals.c.id == flags.c.referral_id)
        .where(
            flags.c.kind == str(Flag.CONSENT_REVIEW_DUE),
            flags.c.resolved_at.is_(None),
            referrals.c.status.not_in(_ENDED),
        )
    )
    return [
        action_needed.Item(utc(row.raised_at), ActionNeeded.COMING_OF_AGE, row.referral_id)
        for row in conn.execute(query)
    ]


def recovery_ending(conn: Connection, first: dt.date, last: dt.date) -> list[tuple[str, dt.date]]:
    """Open cases whose recovery period ends from `first` to `last`: (id, last day).

    Not a referral in review: it may be a person already in another organization's
    care, whose own case holds their period; it waits as `possible_duplicate`.
    """
    referrals = tables.referrals
    query = sa.select(referrals.c.id, referrals.c.recovery_ends_on).where(
        referrals.c.recovery_ends_on >= first,
        referrals.c.recovery_ends_on <= last,
        referrals.c.status.not_in(_ENDED),
        referrals.c.status != str(ReferralStatus.IN_REVIEW),
    )
    return [(row.id, row.recovery_ends_on) for row in conn.execute(query)]


def escalated(conn: Connection, referral_ids: Iterable[str]) -> set[tuple[str, str]]:
    """(referral id, item key) of the items of these cases already escalated."""
    c = tables.escalations.c
    found: set[tuple[str, str]] = set()
    ids = sorted(set(referral_ids))
    # In slices: a bound parameter each, and SQLite allows some thousands at most.
    for start in range(0, len(ids), 500):
        query = sa.select(c.referral_id, c.item).where(c.referral_id.in_(ids[start : start + 500]))
        found |= {(row.referral_id, row.item) for row in conn.execute(query)}
    return found


def mark_escalated(conn: Connection, items: Iterable[action_needed.Item]) -> None:
    at = dt.datetime.now(dt.UTC)
    rows = [
        {"referral_id": i.referral_id, "item": i.key, "kind": str(i.kind), "escalated_at": at}
        for i in items
    ]
    if rows:
        conn.execute(tables.escalations.insert(), rows)
