"""Bed requests, cancellations and discharges: decide with the domain, record, answer.

Every handler locks the directory first (`lock_directory`), so that deciding,
waitlisting and promoting see one consistent state on every replica.
"""

from __future__ import annotations

import dataclasses

from korpu_contracts import referral, registry
from korpu_contracts.envelope import Envelope
from korpu_contracts.vocabulary import Reason, TaskStatus
from korpu_runtime import logging as runtime_logging
from korpu_runtime.unit_of_work import UnitOfWork
from shelter.adapters.repository import ShelterRepository
from shelter.domain import model, placement, waitlist
from shelter.service_layer import positions, replies

log = runtime_logging.get(__name__)


class UnknownTask(Exception):
    pass


class NotAccepted(Exception):
    """Only a person holding a bed can be discharged."""


def request_bed(uow: UnitOfWork, envelope: Envelope) -> None:
    """Place, waitlist or reject; a task already known is a duplicate and changes nothing."""
    requested = registry.read(envelope, referral.TaskRequested)
    repository = ShelterRepository(uow.conn)
    directory = repository.lock_directory()
    reply = replies.Reply(uow, requested.task_id, requested.referral_id, envelope)
    known = repository.task(requested.task_id)
    if known is not None and not known.awaiting_request:
        # Another event for a task already decided (the inbox only stops the same
        # event id). Rejected: answering again, which could re-place a person.
        log.info("task_already_known", task_id=requested.task_id)
        return
    if known is not None:
        # Its cancellation overtook it (no order holds across redeliveries and
        # reclaims): answer cancelled, never allocate. Rejected: allocating and
        # freeing at once, which would briefly tell the referrer a bed was given.
        repository.fill_tombstone(requested)
        reply.tell(TaskStatus.CANCELLED, Reason(known.reason or Reason.WITHDRAWN))
        return
    request = repository.add_task(requested)
    decision = placement.decide(request, directory.values(), repository.waiting())
    if isinstance(decision, model.Placed):
        _place(reply, repository, directory[decision.facility_id], request.region)
    elif isinstance(decision, model.Waitlisted):
        reason = Reason(decision.reason)
        repository.set_status(requested.task_id, TaskStatus.ON_HOLD, reason)
        # No `positions.announce`: nobody already waiting moves back, since a child
        # goes ahead only of adults, who never compete with children for a bed.
        repository.set_announced(requested.task_id, decision.position)
        reply.tell(TaskStatus.ON_HOLD, reason, {"waitlist_position": decision.position})
    else:
        reason = Reason(decision.reason)
        repository.set_status(requested.task_id, TaskStatus.REJECTED, reason)
        reply.tell(TaskStatus.REJECTED, reason, {"unmet": decision.unmet})


def cancel(uow: UnitOfWork, envelope: Envelope) -> None:
    """Withdraw a task: free its bed for the next person waiting, or leave the waitlist."""
    cancelled = registry.read(envelope, referral.TaskCancelled)
    repository = ShelterRepository(uow.conn)
    directory = repository.lock_directory()
    row = repository.task(cancelled.task_id)
    if row is None:
        # Overtook its request: the tombstone makes that request answer cancelled.
        # Nothing is published now; the referral service already counts it cancelled.
        repository.add_tombstone(cancelled)
        return
    status = TaskStatus(row.status)
    if status not in (TaskStatus.ACCEPTED, TaskStatus.ON_HOLD):
        return  # rejected, completed or already cancelled: nothing held, nothing to undo
    repository.set_status(cancelled.task_id, TaskStatus.CANCELLED, cancelled.reason)
    replies.Reply(uow, cancelled.task_id, row.referral_id, envelope).tell(
        TaskStatus.CANCELLED, cancelled.reason
    )
    if status is TaskStatus.ACCEPTED:
        _free(uow, repository, directory[row.facility_id])
    positions.announce(uow, repository)


def complete(uow: UnitOfWork, task_id: str, outcome: str) -> None:
    """A case worker discharged the person: the task is done and the bed goes to the next."""
    repository = ShelterRepository(uow.conn)
    directory = repository.lock_directory()
    row = repository.task(task_id)
    if row is None or row.awaiting_request:
        raise UnknownTask(task_id)
    if row.status != TaskStatus.ACCEPTED:
        raise NotAccepted(row.status)
    facility = directory[row.facility_id]
    repository.set_status(task_id, TaskStatus.COMPLETED)
    detail: replies.Detail = {**model.placement_detail(facility, row.region), "outcome": outcome}
    replies.Reply(uow, task_id, row.referral_id).tell(TaskStatus.COMPLETED, None, detail)
    _free(uow, repository, facility)
    positions.announce(uow, repository)


def fill(uow: UnitOfWork, repository: ShelterRepository, facility: model.Facility) -> int:
    """Give the facility's free beds to the people waiting, in the domain's order.

    Each promoted person's answer is a new event on their own case: it names no
    cause, because the event that freed the bed belongs to another person's case
    and linking the two would tell one referrer about the other.
    """
    promoted = 0
    while (person := waitlist.next_for_bed(facility, repository.waiting())) is not None:
        row = repository.task(person.task_id)
        assert row is not None
        reply = replies.Reply(uow, person.task_id, row.referral_id)
        _place(reply, repository, facility, person.region)
        facility = dataclasses.replace(facility, occupied=facility.occupied + 1)
        promoted += 1
    return promoted


def _free(uow: UnitOfWork, repository: ShelterRepository, facility: model.Facility) -> None:
    repository.occupy(facility.id, -1)
    fill(uow, repository, dataclasses.replace(facility, occupied=max(0, facility.occupied - 1)))


def _place(
    reply: replies.Reply, repository: ShelterRepository, facility: model.Facility, asked: str
) -> None:
    repository.occupy(facility.id, 1)
    repository.set_status(reply.task_id, TaskStatus.ACCEPTED, None, facility.id)
    reply.tell(TaskStatus.ACCEPTED, None, model.placement_detail(facility, asked))
