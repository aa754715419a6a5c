"""An operator decides a match across organizations: the same person, or two people.

A referral whose person matches another organization's open case waits in
review (adapters/reviews.py). The submitting organization is told nothing of
the other case, so only someone who may see both decides: an operator at
`korpu duplicates`. The same person: the referral is closed with the reason
`duplicate` and no link, so the organization learns that the person is looked
after elsewhere and not where. Two people: it is coordinated as any referral,
from its needs as submitted and its consent as now. Either way the operator's
decision is in the audit trail, naming both referrals. Rejected: letting either
organization decide (neither may see the other's person), and telling the
other organization's case worker (one organization would learn of the other's
case from the other side).
"""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

import sqlalchemy as sa

from korpu_contracts.vocabulary import ReferralStatus
from korpu_runtime import logging as runtime_logging
from korpu_runtime.unit_of_work import UnitOfWork
from referral.adapters import audit, reviews
from referral.adapters.repository import ReferralRepository
from referral.domain import exceptions, model
from referral.service_layer import overruling

# The referral's own reason in its history when it is closed as the same person.
DUPLICATE = "duplicate"
log = runtime_logging.get(__name__)


class Resolution(enum.StrEnum):
    SAME_PERSON = "same_person"
    DIFFERENT_PEOPLE = "different_people"


def resolve(
    uow: UnitOfWork,
    actor: audit.Actor,
    referral_id: str,
    resolution: Resolution,
    today: dt.date | None = None,
) -> ReferralStatus:
    """Close or coordinate a referral in review; its new status.

    Raises `exceptions.NotInReview`, and `exceptions.CaseEnded` when two people are said
    but the person's data was erased meanwhile (nothing to request with).
    """
    repository = ReferralRepository(uow.conn)
    row = repository.get(referral_id, lock=True)
    review = reviews.review_of(uow.conn, referral_id)
    waiting = row is not None and row.status == ReferralStatus.IN_REVIEW
    if row is None or review is None or review.resolved_at is not None or not waiting:
        raise exceptions.NotInReview(referral_id)
    if resolution is Resolution.SAME_PERSON:
        status = _close(uow, row)
    else:
        tasks = overruling.coordinate_stored(uow, row, None, today or dt.date.today())
        status = model.referral_status(tasks.values(), withdrawn=False)
        overruling.announce(uow, row, tasks, status)
    reviews.resolve(uow.conn, referral_id, resolution)
    detail = {"resolution": str(resolution), "related_referral_id": review.related_referral_id}
    audit.record(uow.conn, actor, audit.DUPLICATE_RESOLVED, referral_id, detail)
    log.info("duplicate_resolved", referral_id=referral_id, resolution=str(resolution))
    return status


def _close(uow: UnitOfWork, row: sa.Row[Any]) -> ReferralStatus:
    repository = ReferralRepository(uow.conn)
    repository.set_status(row.id, ReferralStatus.CLOSED)
    repository.refresh_closed(row.id)  # no task: closed now, its retention clock starts
    repository.record_all(row.id, [(ReferralStatus.CLOSED, None, DUPLICATE)])
    overruling.announce(uow, row, {}, ReferralStatus.CLOSED)
    return ReferralStatus.CLOSED
