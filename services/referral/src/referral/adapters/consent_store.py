"""Storage for consent changes: tasks replaced when consent is given anew, children to review."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from korpu_contracts.vocabulary import Flag, Service
from referral.adapters import tables
from referral.adapters.repository import now
from referral.domain import model


def replace_task(
    conn: Connection, task_id: str, new_id: str, referral_id: str, service: Service
) -> None:
    """Give the service's task a new id, remembering the old one.

    The row keeps its place among the case's tasks (one per service), and the
    caller saves the new task over it. Rejected: a second row per service (every
    reader of a case's tasks, the view, the status and the statistics would have
    to choose between them), and reusing the old id (providers know it as
    cancelled and would ignore a new request under it).
    """
    conn.execute(
        tables.replaced_tasks.insert().values(
            task_id=task_id,
            referral_id=referral_id,
            service=service,
            replaced_by=new_id,
            replaced_at=now(),
        )
    )
    conn.execute(tables.tasks.update().where(tables.tasks.c.id == task_id).values(id=new_id))


def was_replaced(conn: Connection, task_id: str) -> bool:
    query = sa.select(tables.replaced_tasks.c.task_id).where(
        tables.replaced_tasks.c.task_id == task_id
    )
    return conn.execute(query).first() is not None


def children_to_review(conn: Connection, after: str, limit: int) -> list[str]:
    """Open cases of children with a known date of birth, never flagged for review, by id.

    Open: neither withdrawn nor closed, and some task still waiting or under way
    (`closed_at` null); a case whose every task is final holds nothing to
    continue. Whether the date is known is read from the sealed column being
    null, without opening it.
    """
    referrals, persons, flags = tables.referrals, tables.persons, tables.flags
    flagged = sa.exists().where(
        flags.c.referral_id == referrals.c.id, flags.c.kind == str(Flag.CONSENT_REVIEW_DUE)
    )
    query = (
        sa.select(referrals.c.id)
        .join(persons, persons.c.referral_id == referrals.c.id)
        .where(
            referrals.c.is_child.is_(True),
            referrals.c.status.not_in([str(status) for status in model.ENDED_STATUSES]),
            referrals.c.closed_at.is_(None),
            persons.c.date_of_birth.is_not(None),
            ~flagged,
            referrals.c.id > after,
        )
        .order_by(referrals.c.id)
        .limit(limit)
    )
    return list(conn.execute(query).scalars())
