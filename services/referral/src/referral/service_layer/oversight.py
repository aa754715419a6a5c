"""The national coordinator's reads and decisions across organizations, each in the audit trail.

What the coordinator sees holds no personal data: ids, codes, times and the
organization's name (adapters/case_index.py, service_layer/action_needed.py).
Still every view is recorded, with the cases it showed: who looked at which
victims' cases is what an auditor asks. Rejected: recording only changes, which
would leave a key that lists every case nightly unnoticed.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.engine import Connection

from korpu_contracts.vocabulary import Identification, ReferralStatus, Service
from korpu_runtime.unit_of_work import UnitOfWork
from referral.adapters import audit, case_index, recognition
from referral.adapters.repository import ReferralRepository
from referral.domain import action_needed as rules_of
from referral.domain import exceptions, model
from referral.domain import recognition as recognition_rules
from referral.service_layer import action_needed, views

History = list[tuple[str, Service | None, str | None]]
# The history step of a recovery period extended (identification steps are its status).
EXTENDED = "recovery_extended"


def cases(
    conn: Connection,
    actor: audit.Actor,
    filters: case_index.Filters,
    limit: int,
    cursor: str | None,
    now: dt.datetime,
) -> tuple[list[case_index.Case], str | None]:
    found, next_cursor = case_index.search(conn, filters, now, limit, cursor)
    detail = {"filters": filters.used(), "cases": [case.row.id for case in found]}
    audit.record(conn, actor, audit.CASES_LISTED, None, detail)
    return found, next_cursor


def queue(
    conn: Connection, actor: audit.Actor, rules: rules_of.Rules, now: dt.datetime
) -> list[rules_of.Item]:
    items = action_needed.queue(conn, rules, now)
    shown = sorted({item.referral_id for item in items})
    audit.record(conn, actor, audit.QUEUE_VIEWED, None, {"cases": shown})
    return items


def case(
    conn: Connection, actor: audit.Actor | None, referral_id: str
) -> tuple[case_index.Case, dict[str, Any], list[recognition.Extension]] | None:
    """One case: its line of the list, what its organization sees of it, its extensions.

    `actor` None: the answer to a change just recorded, not a view of its own.
    """
    found = case_index.one(conn, referral_id)
    if found is None:
        return None
    if actor is not None:
        audit.record(conn, actor, audit.CASE_VIEWED, referral_id)
    view = views.case_view(ReferralRepository(conn), found.row)
    return found, view, recognition.extensions(conn, referral_id)


def identify(
    uow: UnitOfWork,
    actor: audit.Actor,
    referral_id: str,
    status: Identification,
    decided_on: dt.date,
    today: dt.date,
) -> bool:
    """Record the competent authority's decision; False for no such case.

    Raises `recognition.InvalidDecision`. A later decision (an appeal) is recorded
    over it; each is a step of the history and an entry of the trail.
    """
    repository = ReferralRepository(uow.conn)
    row = repository.get(referral_id, lock=True)
    if row is None:
        return False
    recognition_rules.check_decision(status, decided_on, _received_on(row), today)
    recognition.set_identification(uow.conn, referral_id, status, decided_on)
    repository.record_all(referral_id, [(str(status), None, None)])
    detail = {"status": str(status), "decided_on": decided_on.isoformat()}
    audit.record(uow.conn, actor, audit.IDENTIFICATION_RECORDED, referral_id, detail)
    return True


def extend_recovery(
    uow: UnitOfWork,
    actor: audit.Actor,
    referral_id: str,
    days: int,
    reason: recognition_rules.ExtensionReason,
    today: dt.date,
) -> dt.date | None:
    """Extend the recovery period by `days`; its new last day, None for no such case.

    Raises `recognition.InvalidDecision`, and `exceptions.CaseEnded` for a case
    withdrawn or closed: no one is in its care to recover.
    """
    repository = ReferralRepository(uow.conn)
    row = repository.get(referral_id, lock=True)
    if row is None:
        return None
    if ReferralStatus(row.status) in model.ENDED_STATUSES:
        raise exceptions.CaseEnded(referral_id)
    current = row.recovery_ends_on or recognition_rules.recovery_ends_on(_received_on(row))
    ends_on = recognition_rules.extended(current, days, today)
    recognition.extend(uow.conn, referral_id, days, str(reason), ends_on)
    repository.record_all(referral_id, [(EXTENDED, None, None)])
    detail = {"days": days, "reason": str(reason), "ends_on": ends_on.isoformat()}
    audit.record(uow.conn, actor, audit.RECOVERY_EXTENDED, referral_id, detail)
    return ends_on


def _received_on(row: Any) -> dt.date:
    at: dt.datetime = row.created_at
    # SQLite hands back naive UTC; PostgreSQL an aware time in the session's zone.
    return (at.astimezone(dt.UTC) if at.tzinfo else at).date()


def queue_of(
    conn: Connection, referral_id: str, rules: rules_of.Rules, now: dt.datetime
) -> list[rules_of.Item]:
    """The open items of one case (its view is recorded already)."""
    return [
        item for item in action_needed.queue(conn, rules, now) if item.referral_id == referral_id
    ]


def exists(conn: Connection, referral_id: str) -> bool:
    return ReferralRepository(conn).get(referral_id) is not None
