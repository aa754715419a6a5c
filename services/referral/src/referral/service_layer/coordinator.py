"""The coordinator: one referral becomes one task per consented need, followed to an answer."""

from __future__ import annotations

import dataclasses
import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

from korpu_contracts import intake, referral, registry, streams, tolerant
from korpu_contracts.envelope import Envelope, source_of
from korpu_contracts.providers import TaskUpdated
from korpu_contracts.vocabulary import Reason, ReferralStatus, Service
from korpu_runtime import logging as runtime_logging
from korpu_runtime import signing
from korpu_runtime.unit_of_work import UnitOfWork
from referral.adapters import consent_store, duplicates, open_cap, reviews
from referral.adapters.repository import ReferralRepository
from referral.domain import exceptions, model
from referral.service_layer import announcements, stored_requests

SOURCE = announcements.SOURCE
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
    # After the replay: a submission already made answers as before, cap or not.
    if open_cap.reached(uow.conn, organization_id):
        raise exceptions.OpenReferralsCap(open_cap.of(uow.conn))

    referral_id = str(uuid.uuid4())
    person = request.person
    age = model.age_in_years(person.date_of_birth, person.age_estimate, dt.date.today())
    child = model.is_child(age, person.possibly_minor)
    # The same person with a case still open is never coordinated twice, so no
    # provider holds a second bed. The organization's own case: linked to it and
    # flagged, closed at once with no task. Another organization's: in review,
    # no task, until an operator says whether it is the same person
    # (service_layer/duplicate_review.py); the answer, the view and the status
    # event say `in_review` and nothing of the other case. Rejected: tasks
    # answered at once with a made-up reason (providers and history would show a
    # refusal that no provider gave); telling another organization anything of
    # the case, even that there is one (its closed answer told it at once).
    match = duplicates.open_case(uow.conn, organization_id, request)
    own = match is not None and match.organization_id == organization_id
    planned = [] if match else model.plan_tasks(request.needs, request.consent, child)
    tasks = {str(uuid.uuid4()): task for task in planned}
    if match is None:
        status = model.referral_status(tasks.values(), withdrawn=False)
    else:
        status = ReferralStatus.CLOSED if own else ReferralStatus.IN_REVIEW

    # Few statements, each writing all its rows: this path sets the intake rate.
    repository.add(referral_id, organization_id, request, child, status)
    repository.remember(organization_id, idempotency_key, body_hash, referral_id)
    if status is not ReferralStatus.IN_REVIEW:
        # It would set `closed_at`, as no task is open: a referral in review has
        # no task yet is open (a case to match, its person kept, not erased).
        repository.add_tasks(referral_id, tasks)
    history: list[tuple[str, Service | None, Reason | None]] = [
        (ReferralStatus.RECEIVED, None, None),
        *((task.status, task.service, task.reason) for task in tasks.values()),
        (status, None, None),
    ]
    repository.record_all(referral_id, history)
    if match is not None and own:
        repository.raise_flag(referral_id, duplicates.FLAG, match.referral_id)
        log.info(
            "referral_linked_to_open_case", referral_id=referral_id, open_case=match.referral_id
        )
    elif match is not None:
        reviews.raise_review(uow.conn, referral_id, match)
        log.info("referral_in_review", referral_id=referral_id, open_case=match.referral_id)
    sending = set(model.to_request(tasks))
    uow.publish_all(
        [
            (
                streams.REQUESTS_BY_SERVICE[task.service],
                Envelope.wrap(
                    _task_request(task_id, referral_id, task, request, age, child),
                    source=SOURCE,
                    subject=referral_id,
                ),
            )
            # A task waiting for the shelter's answer is sent with it (`_send_held`).
            for task_id, task in tasks.items()
            if task_id in sending
        ]
    )
    announcements.announce(
        uow,
        announcements.Case(referral_id, organization_id, request.agency_reference, status, tasks),
    )
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


def _check_origin(
    envelope: Envelope, update: TaskUpdated, task: model.Task, referral_id: str
) -> None:
    """Only the provider a task was sent to answers about it, and only for its referral.

    The runtime has checked that the provider named as `source` signed the entry;
    a provider answering about another's task, or naming another referral, is
    refused (dead-lettered at once, never applied).
    """
    provider = source_of(str(task.service))
    if envelope.source != provider or update.service != task.service:
        raise signing.Refused("an answer about a task sent to another provider")
    if update.referral_id != referral_id or envelope.subject != referral_id:
        raise signing.Refused("an answer naming another referral than its task's")


def record_task_update(uow: UnitOfWork, envelope: Envelope) -> None:
    """A provider answered about a task: keep it, and tell the agency.

    Answers may come in any order and more than once: one older than the newest
    applied changes nothing (`model.Task.apply`), so the last word is the
    provider's latest, not the latest to arrive.
    """
    update = registry.read(envelope, TaskUpdated)
    repository = ReferralRepository(uow.conn)
    row = repository.referral_of_task(update.task_id)
    if row is None and consent_store.was_replaced(uow.conn, update.task_id):
        # A task cancelled for want of consent, then replaced when it was given
        # again (service_layer/consent.py): its answers come late and change nothing.
        log.info("answer_about_replaced_task", task_id=update.task_id)
        return
    if row is None:
        # Never in normal running: a task is stored in the very transaction that
        # requests it, so no provider can answer before it exists. It means this
        # database lacks what it once had (restored from an older backup, or a
        # wrong database URL) or the answer belongs to another deployment on the
        # same Redis. Raising leaves the entry to the runtime: retried, then kept
        # as a dead letter that an operator sees, and can replay once the right
        # database is back. Rejected: acknowledging and logging (the answer would
        # be lost for good, the referral stuck at `coordinating`); parking it in a
        # table to apply later (only an operator's fix can make the task known,
        # and dead letters already are that queue); cancelling the task at the
        # provider (it may be a live case of another deployment).
        raise exceptions.UnknownTask(update.task_id)
    tasks = repository.tasks(row.id)
    task = tasks[update.task_id]
    _check_origin(envelope, update, task, row.id)
    if isinstance(update.status, tolerant.Unknown):
        # A status added after this build: providers are upgraded first, so one may
        # answer in a word this service does not know yet. Logged by its code (a
        # code, never anything personal), acknowledged, and the task left as it was:
        # the provider's next answer moves it on. Rejected: raising, which retries
        # the entry and dead-letters it, for every answer in that word until the
        # upgrade; applying it by a guessed meaning (a task taken as final, or not).
        log.warning("task_status_not_known", task_id=update.task_id, status=str(update.status))
        return
    before = dataclasses.replace(task)
    if not task.apply(update.status, update.reason, update.detail, update.revision):
        return
    repository.save_task(update.task_id, task)
    if model.just_housed_or_refused(before, task):
        _send_held(uow, repository, row, tasks, envelope)
    if dataclasses.replace(before, revision=task.revision) == task:
        return  # a newer revision saying the same: its number is kept, nothing to tell
    case = announcements.Case(
        row.id, row.organization_id, row.agency_reference, ReferralStatus(row.status), tasks
    )
    # History is for status changes: a new detail alone (a waitlist position that
    # moved) is saved and told to the agency, but is not a step of the case.
    if (task.status, task.reason) != (before.status, before.reason):
        history: list[tuple[str, Service | None, Reason | None]] = [
            (task.status, task.service, task.reason)
        ]
        if case.status not in model.ENDED_STATUSES:
            status = model.referral_status(tasks.values(), withdrawn=False)
            if status is not case.status:
                case = dataclasses.replace(case, status=status)
                repository.set_status(row.id, status)
                history.append((status, None, None))
        repository.record_all(row.id, history)
    announcements.announce(uow, case, causation=envelope)


def _send_held(
    uow: UnitOfWork,
    repository: ReferralRepository,
    row: Any,
    tasks: dict[str, model.Task],
    cause: Envelope,
) -> None:
    """The shelter answered: ask the services held back for it, where the person now is.

    Built again from the stored case, as a consent given later is: the request
    itself was never kept. Each names the shelter's answer as its cause.
    """
    person = repository.person(row.id)
    if person is None:
        return  # erased meanwhile: its tasks were cancelled with it
    held = stored_requests.held_for_housing(row, person, tasks, dt.date.today())
    uow.publish_all(
        [
            (
                streams.REQUESTS_BY_SERVICE[request.service],
                cause.caused(request, source=SOURCE, subject=row.id),
            )
            for request in held
        ]
    )
    if held:
        log.info("held_tasks_requested", referral_id=row.id, tasks=len(held))


def withdraw(uow: UnitOfWork, organization_id: str, referral_id: str) -> bool:
    """Cancel every open task; the providers free what they held. False if not found."""
    repository = ReferralRepository(uow.conn)
    row = repository.get(referral_id, organization_id, lock=True)
    if row is None:
        return False
    if ReferralStatus(row.status) in model.ENDED_STATUSES:
        return True
    tasks = repository.tasks(referral_id)
    open_ids = [task_id for task_id, task in tasks.items() if not task.is_final]
    # Never sent, so no provider holds anything for them: cancelled here only.
    held = {i for i in open_ids if model.waits_for_housing(tasks[i], tasks.values())}
    model.withdraw(tasks.values())
    cancellations = []
    for task_id in open_ids:
        task = tasks[task_id]
        repository.save_task(task_id, task)
        if task_id in held:
            continue
        cancelled = referral.TaskCancelled(
            task_id=task_id, referral_id=referral_id, service=task.service
        )
        cancellations.append(
            (
                streams.REQUESTS_BY_SERVICE[task.service],
                Envelope.wrap(cancelled, source=SOURCE, subject=referral_id),
            )
        )
    uow.publish_all(cancellations)
    repository.set_status(referral_id, ReferralStatus.WITHDRAWN)
    history: list[tuple[str, Service | None, Reason | None]] = [
        *((tasks[i].status, tasks[i].service, tasks[i].reason) for i in open_ids),
        (ReferralStatus.WITHDRAWN, None, None),
    ]
    repository.record_all(referral_id, history)
    case = announcements.Case(
        referral_id, row.organization_id, row.agency_reference, ReferralStatus.WITHDRAWN, tasks
    )
    announcements.announce(uow, case)
    return True
