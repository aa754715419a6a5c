"""A child who turns 18 while their case is open: flagged once, so that the agency asks them.

The flag (`consent_review_due`) shows in the referral view, is a step of the
history, and is told to the agency on the status stream. It is resolved by the
agency's own answer for the now-adult person (service_layer/consent.py). What
was given stays given meanwhile (domain/consent.py).

The birth date is read through `ReferralRepository.person`, opened in memory and
never kept: no birthday, in clear or derived, is stored anywhere. Each round
records in the audit trail how many birth dates it read, and each flag it
raised, naming the case. Rejected: an audit entry per case read each round,
which would bury the reads by people in every child's trail under one line a
round; and storing the 18th birthday to look up instead, which is the birth
date in all but name.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from korpu_contracts.vocabulary import Flag, Reason, ReferralStatus, Service
from korpu_runtime import logging as runtime_logging
from korpu_runtime.unit_of_work import UnitOfWork
from referral.adapters import audit, consent_store
from referral.adapters.repository import ReferralRepository
from referral.domain import consent as consent_rules
from referral.domain import model
from referral.service_layer import announcements

log = runtime_logging.get(__name__)
FLAG = Flag.CONSENT_REVIEW_DUE
# The history status when the agency's answer settles the review.
REVIEWED = "consent_reviewed"
History = list[tuple[str, Service | None, Reason | None]]


@dataclass(frozen=True)
class Round:
    """One batch of a sweep: the last case looked at, and the cases flagged."""

    last_id: str | None
    flagged: list[str]


def received_on(row: sa.Row[Any]) -> dt.date:
    created: dt.datetime = row.created_at
    return created.date()


def open_flags(repository: ReferralRepository, referral_id: str) -> list[Flag]:
    known = {str(flag) for flag in Flag}
    return [
        Flag(flag.kind)
        for flag in repository.flags(referral_id)
        if flag.resolved_at is None and flag.kind in known
    ]


def review_once(repository: ReferralRepository, referral_id: str) -> History:
    """Raise the flag unless it was ever raised; the history step it makes, if any.

    Once only: a review settled stays settled, and a sweep or a later consent
    change never raises it again.
    """
    if any(flag.kind == FLAG for flag in repository.flags(referral_id)):
        return []
    repository.raise_flag(referral_id, FLAG)
    return [(str(FLAG), None, None)]


def sweep(uow: UnitOfWork, actor: audit.Actor, today: dt.date, after: str, limit: int) -> Round:
    """Look at up to `limit` children's cases after id `after`; flag those who came of age."""
    ids = consent_store.children_to_review(uow.conn, after, limit)
    repository = ReferralRepository(uow.conn)
    flagged = [referral_id for referral_id in ids if _review(uow, repository, referral_id, today)]
    if ids:
        audit.record(uow.conn, actor, audit.BIRTH_DATES_READ, None, {"cases": len(ids)})
    for referral_id in flagged:
        audit.record(uow.conn, actor, audit.CONSENT_REVIEW_FLAGGED, referral_id)
    return Round(ids[-1] if ids else None, flagged)


def _review(
    uow: UnitOfWork, repository: ReferralRepository, referral_id: str, today: dt.date
) -> bool:
    # Locked, and looked at again: a withdrawal or a consent change may have
    # committed since the candidates were listed.
    row = repository.get(referral_id, lock=True)
    if row is None or ReferralStatus(row.status) in model.ENDED_STATUSES:
        return False
    person = repository.person(referral_id)
    if person is None:
        return False
    if not consent_rules.came_of_age(person["date_of_birth"], received_on(row), today):
        return False
    history = review_once(repository, referral_id)
    if not history:
        return False
    repository.record_all(referral_id, history)
    announcements.announce(
        uow,
        announcements.Case(
            referral_id,
            row.organization_id,
            row.agency_reference,
            ReferralStatus(row.status),
            repository.tasks(referral_id),
            consent=repository.consents(referral_id),
            flags=open_flags(repository, referral_id),
        ),
    )
    log.info("consent_review_due", referral_id=referral_id)
    return True
