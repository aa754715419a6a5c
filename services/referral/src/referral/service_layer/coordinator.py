"""The coordinator: one referral becomes one task per consented need, followed to an answer."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from korpu_contracts import intake, referral, registry, streams
from korpu_contracts.envelope import Envelope
from korpu_contracts.providers import TaskUpdated
from korpu_contracts.vocabulary import ReferralStatus, TaskStatus
from korpu_runtime import logging as runtime_logging
from korpu_runtime.unit_of_work import UnitOfWork
from referral.adapters.repository import ReferralRepository
from referral.domain import exceptions, model

SOURCE = "korpu/referral"
log = runtime_logging.get(__name__)


@dataclass(frozen=True)
class Submitted:
    referral_id: str
    status: ReferralStatus
    created: bool


def submit(
    uow: UnitOfWork,
    organization_id: str,
    idempotency_key: str,
    body_hash: str,
    request: intake.ReferralRequest,
) -> Submitted:
    """Register a referral and request its tasks, or replay an earlier identical submission."""
    repository = ReferralRepository(uow.conn)
    earlier = repository.idempotent(organization_id, idempotency_key)
    if earlier is not None:
        if earlier.body_hash != body_hash:
            raise exceptions.IdempotencyConflict
        row = repository.get(earlier.referral_id)
        assert row is not None
        return Submitted(row.id, ReferralStatus(row.status), created=False)

    referral_id = str(uuid.uuid4())
    person = request.person
    age = model.age_in_years(person.date_of_birth, person.age_estimate, dt.date.today())
    child = model.is_child(age, person.possibly_minor)
    tasks = model.plan_tasks(request.needs, request.consent, child)
    status = model.referral_status(tasks, withdrawn=False)

    repository.add(referral_id, organization_id, request, child, status)
    repository.remember(organization_id, idempotency_key, body_hash, referral_id)
    repository.record(referral_id, ReferralStatus.RECEIVED)
    for position, task in enumerate(tasks):
        task_id = str(uuid.uuid4())
        repository.add_task(task_id, referral_id, position, task)
        repository.record(referral_id, task.status, task.service, task.reason)
        if task.status is TaskStatus.REQUESTED:
            requested = _task_request(task_id, referral_id, task, request, age, child)
            uow.publish(
                streams.REQUESTS_BY_SERVICE[task.service],
                Envelope.wrap(requested, source=SOURCE, subject=referral_id),
            )
    repository.record(referral_id, status)
    _announce(uow, repository, referral_id)
    log.info("referral_registered", referral_id=referral_id, tasks=len(tasks))
    return Submitted(referral_id, status, created=True)


def _task_request(
    task_id: str,
    referral_id: str,
    task: model.Task,
    request: intake.ReferralRequest,
    age: int | None,
    child: bool,
) -> referral.TaskRequested:
    # Coarse attributes only: the provider learns what it needs to decide, not who.
    circumstances = request.circumstances
    return referral.TaskRequested(
        task_id=task_id,
        referral_id=referral_id,
        service=task.service,
        region=request.region,
        is_child=child,
        sex=request.person.sex,
        age_years=age,
        languages=list(request.person.languages),
        accompanying_children=circumstances.accompanying_children,
        pregnant=circumstances.pregnant,
        disability=circumstances.disability,
        safety_risk=circumstances.safety_risk,
    )


def record_task_update(uow: UnitOfWork, envelope: Envelope) -> None:
    """A provider answered about a task: keep it, and tell the agency."""
    update = registry.read(envelope, TaskUpdated)
    repository = ReferralRepository(uow.conn)
    found = repository.task(update.task_id)
    if found is None:
        log.warning("task_update_for_unknown_task", task_id=update.task_id)
        return
    referral_id, task = found
    if not task.apply(update.status, update.reason, update.detail):
        return
    repository.save_task(update.task_id, task)
    repository.record(referral_id, task.status, task.service, task.reason)
    row = repository.get(referral_id)
    assert row is not None
    current = ReferralStatus(row.status)
    if current in (ReferralStatus.WITHDRAWN, ReferralStatus.CLOSED):
        return
    status = model.referral_status(repository.tasks(referral_id).values(), withdrawn=False)
    if status is not current:
        repository.set_status(referral_id, status)
        repository.record(referral_id, status)
    _announce(uow, repository, referral_id, causation=envelope)


def withdraw(uow: UnitOfWork, organization_id: str, referral_id: str) -> bool:
    """Cancel every open task; the providers free what they held. False if not found."""
    repository = ReferralRepository(uow.conn)
    row = repository.get(referral_id, organization_id)
    if row is None:
        return False
    if ReferralStatus(row.status) in (ReferralStatus.WITHDRAWN, ReferralStatus.CLOSED):
        return True
    tasks = repository.tasks(referral_id)
    for task_id, task in tasks.items():
        if task not in model.withdraw([task]):
            continue
        repository.save_task(task_id, task)
        repository.record(referral_id, task.status, task.service, task.reason)
        cancelled = referral.TaskCancelled(
            task_id=task_id, referral_id=referral_id, service=task.service
        )
        uow.publish(
            streams.REQUESTS_BY_SERVICE[task.service],
            Envelope.wrap(cancelled, source=SOURCE, subject=referral_id),
        )
    repository.set_status(referral_id, ReferralStatus.WITHDRAWN)
    repository.record(referral_id, ReferralStatus.WITHDRAWN)
    _announce(uow, repository, referral_id)
    return True


def _announce(
    uow: UnitOfWork,
    repository: ReferralRepository,
    referral_id: str,
    causation: Envelope | None = None,
) -> None:
    row = repository.get(referral_id)
    assert row is not None
    services = {
        task.service: referral.ServiceAnswer(
            status=task.status, reason=task.reason, detail=task.detail
        )
        for task in repository.tasks(referral_id).values()
    }
    changed = referral.ReferralStatusChanged(
        referral_id=referral_id,
        organization_id=row.organization_id,
        agency_reference=row.agency_reference,
        status=ReferralStatus(row.status),
        services=services,
    )
    envelope = (
        causation.caused(changed, source=SOURCE)
        if causation
        else Envelope.wrap(changed, source=SOURCE, subject=referral_id)
    )
    uow.publish(streams.REFERRAL_STATUS, envelope)
