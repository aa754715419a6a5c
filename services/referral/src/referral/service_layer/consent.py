"""Consent changed by the agency for one purpose: the service's task follows, recorded and told.

A withdrawal or a refusal cancels the service's open task, and its provider
frees the bed, seat or lawyer for the next person waiting (as a withdrawal of
the whole referral does). A grant sends a task that consent had stopped: one
never sent for want of consent goes out as it is; one cancelled when consent
was withdrawn is replaced by a new task under a new id, so the person is asked
for afresh and waits from the end of the line, having given up their place
(adapters/consent_store.py says why a new id). Consent for `reporting` is only
stored: the statistics read it.

Every change is a step of the history, a line of the audit trail and a status
event to the agency, in one transaction. The same consent given again changes
nothing and tells nothing, but is recorded in the trail as asked.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from korpu_contracts import referral, streams
from korpu_contracts.envelope import Envelope
from korpu_contracts.vocabulary import Consent, Purpose, Reason, ReferralStatus, Service, TaskStatus
from korpu_runtime import logging as runtime_logging
from korpu_runtime.unit_of_work import UnitOfWork
from referral.adapters import audit, consent_store
from referral.adapters.repository import ReferralRepository
from referral.domain import consent as consent_rules
from referral.domain import exceptions, model
from referral.service_layer import announcements, audited, coming_of_age, stored_requests

SOURCE = announcements.SOURCE
log = runtime_logging.get(__name__)
History = coming_of_age.History


@dataclass
class _Change:
    """One consent change being made: what it read, and what it will write and send."""

    uow: UnitOfWork
    repository: ReferralRepository
    row: sa.Row[Any]
    person: dict[str, Any] | None
    child: bool
    today: dt.date
    history: History
    events: list[tuple[str, Envelope]]


def change(
    uow: UnitOfWork,
    actor: audit.Actor,
    referral_id: str,
    purpose: Purpose,
    consent: Consent,
    today: dt.date | None = None,
) -> bool:
    """Change the consent; False (and the refusal recorded) when the case is not the caller's.

    Raises `exceptions.CaseEnded` on a withdrawn, closed or erased case, and
    `exceptions.NotAChild` for `not_required_child` given for an adult.
    """
    assert actor.organization_id is not None
    today = today or dt.date.today()
    repository = ReferralRepository(uow.conn)
    row = repository.get(referral_id, actor.organization_id, lock=True)
    if row is None:
        audited.denied(uow.conn, actor, referral_id)
        return False
    if ReferralStatus(row.status) in model.ENDED_STATUSES or row.erased_at is not None:
        raise exceptions.CaseEnded
    # Only a child's case needs the birth date here: to know whether they are one still.
    person = repository.person(referral_id) if row.is_child else None
    birth = None if person is None else person["date_of_birth"]
    child = consent_rules.child_now(row.is_child, birth, coming_of_age.received_on(row), today)
    consent_rules.check(consent, child)
    work = _Change(uow, repository, row, person, child, today, [], [])
    consents = repository.consents(referral_id)
    changed = consents.get(purpose) is not consent
    if changed:
        consents[purpose] = consent
        repository.set_consents(referral_id, {purpose: consent})
        repository.record_consent(referral_id, purpose, consent)
        _follow(work, purpose, consent)
    reviewed = _review(work, consents, consent) if row.is_child and not child else False
    if changed or reviewed:
        _finish(work, consents)
    audit.record(
        uow.conn,
        actor,
        audit.CONSENT_CHANGED,
        referral_id,
        {"purpose": str(purpose), "consent": str(consent), "changed": changed},
    )
    return True


def _follow(work: _Change, purpose: Purpose, consent: Consent) -> None:
    """What the service's task does now: cancelled, requested, replaced, or left as it is."""
    service = consent_rules.service_of(purpose)
    if service is None:
        return
    tasks = work.repository.tasks(work.row.id)
    found = next(((i, t) for i, t in tasks.items() if t.service is service), None)
    task_id, task = found if found else ("", None)
    step = consent_rules.step(task, consent, work.child)
    if task is None or step is consent_rules.Step.NOTHING:
        return
    if step is consent_rules.Step.CANCEL:
        before = dataclasses.replace(task)
        task.status, task.reason = TaskStatus.CANCELLED, Reason.WITHDRAWN
        cancelled = referral.TaskCancelled(
            task_id=task_id, referral_id=work.row.id, service=task.service
        )
        work.events.append(_to_provider(cancelled, work.row.id))
        if model.just_housed_or_refused(before, task):
            # No shelter now: what waited for its answer is asked for where the person is.
            person = work.person or work.repository.person(work.row.id)
            if person is not None:
                held = stored_requests.held_for_housing(work.row, person, tasks, work.today)
                work.events.extend(_to_provider(request, work.row.id) for request in held)
    else:
        if step is consent_rules.Step.REPLACE:
            new_id = str(uuid.uuid4())
            consent_store.replace_task(work.uow.conn, task_id, new_id, work.row.id, task.service)
            task_id = new_id
        task.status, task.reason, task.detail, task.revision = TaskStatus.REQUESTED, None, {}, 0
        # Held back while the shelter has not answered: sent with its answer.
        if not model.waits_for_housing(task, tasks.values()):
            region = model.region_for(task.service, tasks.values(), work.row.region)
            request = _request(work, task_id, task.service, region)
            work.events.append(_to_provider(request, work.row.id))
    work.repository.save_task(task_id, task)
    work.history.append((task.status, task.service, task.reason))
    log.info(
        "consent_task_followed", referral_id=work.row.id, service=task.service, step=step.value
    )


def _review(work: _Change, consents: dict[Purpose, Consent], answer: Consent) -> bool:
    """The person came of age: flag the case once, and settle it with their own answer.

    A change made after the 18th birthday but before the sweep saw it raises the
    flag here, so the case never goes unflagged; an answer that settles it
    resolves it at once, and both steps show in the history.
    """
    raised = coming_of_age.review_once(work.repository, work.row.id)
    work.history.extend(raised)
    still_open = coming_of_age.FLAG in coming_of_age.open_flags(work.repository, work.row.id)
    if still_open and consent_rules.review_settled(consents, answer):
        work.repository.resolve_flag(work.row.id, coming_of_age.FLAG)
        work.history.append((coming_of_age.REVIEWED, None, None))
        return True
    return bool(raised)


def _finish(work: _Change, consents: dict[Purpose, Consent]) -> None:
    """Set the referral's status, write the history, send the events, tell the agency."""
    referral_id, repository = work.row.id, work.repository
    tasks = repository.tasks(referral_id)
    status = ReferralStatus(work.row.status)
    # In review it has no task, and waits for the operator whatever consent says
    # meanwhile: the consent as it is then is what it is coordinated with.
    if status is not ReferralStatus.IN_REVIEW:
        status = model.referral_status(tasks.values(), withdrawn=False)
    if status is not ReferralStatus(work.row.status):
        repository.set_status(referral_id, status)
        work.history.append((status, None, None))
    if work.history:
        repository.record_all(referral_id, work.history)
    work.uow.publish_all(work.events)
    case = announcements.Case(
        referral_id,
        work.row.organization_id,
        work.row.agency_reference,
        status,
        tasks,
        consent=consents,
        flags=coming_of_age.open_flags(repository, referral_id),
    )
    announcements.announce(work.uow, case)


def _to_provider(
    payload: referral.TaskRequested | referral.TaskCancelled, subject: str
) -> tuple[str, Envelope]:
    stream = streams.REQUESTS_BY_SERVICE[payload.service]
    return stream, Envelope.wrap(payload, source=SOURCE, subject=subject)


def _request(work: _Change, task_id: str, service: Service, region: str) -> referral.TaskRequested:
    person = work.person or work.repository.person(work.row.id)
    if person is None:
        raise exceptions.CaseEnded  # erased meanwhile: nothing left to ask for the person with
    return stored_requests.task_request(
        work.row, person, task_id, service, work.child, work.today, region=region
    )
