"""The agency says a referral linked as a duplicate is someone else: it is coordinated after all.

Matching is by name and birth date, so two people can match: the same common
name born on the same day. A false match must not leave the second person
without help. The referring organization (it alone knows the person it met)
overrules the link to its own case; the referral is then coordinated from its
stored needs and consent as at submission, and the flag reads resolved. A match
with another organization's case is never linked (the agency is not told of
it): an operator decides it (service_layer/duplicate_review.py), coordinating it
the same way. Rejected: letting the agency resubmit with a changed name or date
(a false record to get past a check).
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import sqlalchemy as sa

from korpu_contracts import streams
from korpu_contracts.envelope import Envelope
from korpu_contracts.vocabulary import Flag, ReferralStatus, Service
from korpu_runtime import logging as runtime_logging
from korpu_runtime.unit_of_work import UnitOfWork
from referral.adapters import audit
from referral.adapters.repository import ReferralRepository
from referral.domain import exceptions, model
from referral.service_layer import announcements, audited, coming_of_age, stored_requests

OVERRULED = "duplicate_overruled"  # the history step
log = runtime_logging.get(__name__)


def overrule(
    uow: UnitOfWork, actor: audit.Actor, referral_id: str, today: dt.date | None = None
) -> bool:
    """Coordinate a referral linked as a duplicate; False (refusal recorded) when not the caller's.

    Raises `exceptions.NotLinked` when it is not linked (any more), and
    `exceptions.CaseEnded` when its person's data was erased.
    """
    assert actor.organization_id is not None
    repository = ReferralRepository(uow.conn)
    row = repository.get(referral_id, actor.organization_id, lock=True)
    if row is None:
        audited.denied(uow.conn, actor, referral_id)
        return False
    linked = [f for f in repository.flags(referral_id) if f.kind == Flag.POSSIBLE_DUPLICATE]
    if not linked or linked[0].resolved_at is not None or repository.tasks(referral_id):
        raise exceptions.NotLinked
    tasks = coordinate_stored(uow, row, OVERRULED, today or dt.date.today())
    repository.resolve_flag(referral_id, Flag.POSSIBLE_DUPLICATE)
    audit.record(uow.conn, actor, audit.DUPLICATE_OVERRULED, referral_id)
    announce(uow, row, tasks)
    log.info("duplicate_overruled", referral_id=referral_id, tasks=len(tasks))
    return True


def coordinate_stored(
    uow: UnitOfWork, row: sa.Row[Any], step: str | None, today: dt.date
) -> dict[str, model.Task]:
    """Request the referral's tasks from its needs as submitted and its consent as now.

    For a referral held back with no task (linked, or in review). `step` opens
    the history of what follows. Raises `exceptions.CaseEnded` when its person
    was erased: there is no one to ask for.
    """
    repository = ReferralRepository(uow.conn)
    referral_id = row.id
    person = repository.person(referral_id)
    if person is None:
        raise exceptions.CaseEnded
    needs = [Service(need) for need in row.needs]
    tasks = {
        str(uuid.uuid4()): task
        for task in model.plan_tasks(needs, repository.consents(referral_id), row.is_child)
    }
    repository.add_tasks(referral_id, tasks)
    status = model.referral_status(tasks.values(), withdrawn=False)
    repository.set_status(referral_id, status)
    repository.record_all(
        referral_id,
        [
            *([(step, None, None)] if step else []),
            *((task.status, task.service, task.reason) for task in tasks.values()),
            (status, None, None),
        ],
    )
    sending = set(model.to_request(tasks))
    uow.publish_all(
        [
            (
                streams.REQUESTS_BY_SERVICE[task.service],
                Envelope.wrap(
                    stored_requests.task_request(
                        row, person, task_id, task.service, row.is_child, today
                    ),
                    source=announcements.SOURCE,
                    subject=referral_id,
                ),
            )
            # A task waiting for the shelter's answer goes with it (coordinator._send_held).
            for task_id, task in tasks.items()
            if task_id in sending
        ]
    )
    return tasks


def announce(
    uow: UnitOfWork,
    row: sa.Row[Any],
    tasks: dict[str, model.Task],
    status: ReferralStatus | None = None,
) -> None:
    """Tell the agency the referral as it now is (its status read from its tasks by default)."""
    repository = ReferralRepository(uow.conn)
    case = announcements.Case(
        row.id,
        row.organization_id,
        row.agency_reference,
        status or model.referral_status(tasks.values(), withdrawn=False),
        tasks,
        flags=coming_of_age.open_flags(repository, row.id),
    )
    announcements.announce(uow, case)
