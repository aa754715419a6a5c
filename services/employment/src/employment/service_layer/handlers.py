"""What the employment service does with a task request, a cancellation and a completion."""

from __future__ import annotations

from employment.adapters.repository import Repository, Task
from employment.domain import enrolment, model
from employment.service_layer import positions, seats
from korpu_contracts import referral, registry
from korpu_contracts.envelope import Envelope
from korpu_contracts.vocabulary import FINAL_TASK_STATUSES, Reason, TaskStatus
from korpu_runtime import logging as runtime_logging
from korpu_runtime.unit_of_work import UnitOfWork

log = runtime_logging.get(__name__)


class UnknownTask(LookupError):
    pass


class NotAccepted(Exception):
    """Only a task holding a seat can complete."""

    def __init__(self, status: TaskStatus) -> None:
        super().__init__(f"the task is {status}, not accepted")
        self.status = status


def request(uow: UnitOfWork, envelope: Envelope) -> None:
    """Decide a new task: enrol, waitlist or reject, and answer once."""
    asked = registry.read(envelope, referral.TaskRequested)
    repository = Repository(uow.conn)
    # Lock before looking the task up, so two replicas given the same task wait for each other.
    programs = repository.lock_directory()
    known = repository.task(asked.task_id)
    if known is not None and known.requested:
        # Another delivery of a task already answered (a new envelope id for the
        # same task_id, which the inbox cannot catch): answering again could only repeat.
        log.info("task_already_known", task_id=asked.task_id)
        return
    attributes = {
        "region": asked.region,
        "age_years": asked.age_years,
        "is_child": asked.is_child,
        "languages": sorted(set(asked.languages)),
    }
    if known is not None:
        # Its cancellation overtook it: record it, never allocate, answer `cancelled`.
        repository.update_task(asked.task_id, requested=True, **attributes)
        seats.answer(uow, known, TaskStatus.CANCELLED, known.reason, cause=envelope)
        return
    task = repository.add_task(asked.task_id, asked.referral_id, **attributes)
    decision = enrolment.decide(task.request, programs.values(), repository.waiting())
    _apply(uow, repository, task, decision, programs, envelope)


def _apply(
    uow: UnitOfWork,
    repository: Repository,
    task: Task,
    decision: model.Decision,
    programs: dict[str, model.Program],
    cause: Envelope,
) -> None:
    if isinstance(decision, model.Enrolled):
        seats.enrol(uow, repository, task, programs[decision.program_id], cause)
    elif isinstance(decision, model.Waitlisted):
        reason = Reason(decision.reason)
        repository.update_task(
            task.task_id,
            status=TaskStatus.ON_HOLD.value,
            reason=reason.value,
            announced_position=decision.position,
        )
        detail: seats.Detail = {"waitlist_position": decision.position}
        seats.answer(uow, task, TaskStatus.ON_HOLD, reason, detail, cause)
        # A child goes ahead of adults already waiting for the same programs; an
        # adult joins at the end and moves nobody. Rejected: recounting every
        # position on every waitlisting, which costs O(waiting) per request.
        if task.request.is_child:
            positions.announce(uow, repository)
    else:
        reason = Reason(decision.reason)
        repository.update_task(task.task_id, status=TaskStatus.REJECTED.value, reason=reason.value)
        seats.answer(uow, task, TaskStatus.REJECTED, reason, cause=cause)


def cancel(uow: UnitOfWork, envelope: Envelope) -> None:
    """Revoke a task: free its seat for the next person waiting, or leave a tombstone."""
    revoked = registry.read(envelope, referral.TaskCancelled)
    repository = Repository(uow.conn)
    repository.lock_directory()
    task = repository.task(revoked.task_id)
    if task is None:
        # Delivered before its request (order across deliveries is not guaranteed):
        # the tombstone makes the request, when it comes, end as cancelled, never
        # enrolled. Nothing is answered yet: the answer belongs to the request.
        # Rejected: dropping an unknown task's cancellation, which would enrol a
        # person who had withdrawn once the request arrived.
        repository.add_task(
            revoked.task_id,
            revoked.referral_id,
            requested=False,
            status=TaskStatus.CANCELLED.value,
            reason=revoked.reason.value,
            is_child=False,
            languages=[],
        )
        return
    if task.status in FINAL_TASK_STATUSES:
        return
    freed = seats.free_seat(repository, task)
    repository.update_task(
        task.task_id, status=TaskStatus.CANCELLED.value, reason=revoked.reason.value
    )
    # The cancellation is answered before the seat is given on, so the outbox (sent
    # in id order) tells the story in the order it happened.
    seats.answer(uow, task, TaskStatus.CANCELLED, revoked.reason, cause=envelope)
    if freed is not None:
        seats.promote(uow, repository, [freed], cause=envelope)
    positions.announce(uow, repository)


def complete(uow: UnitOfWork, task_id: str, outcome: str) -> None:
    """A case worker closes a program place: the seat goes to the next person waiting.

    The outcome travels in the event to the referral service but is not kept
    here: it is free text a case worker typed and may name the person.
    """
    repository = Repository(uow.conn)
    programs = repository.lock_directory()
    task = repository.task(task_id)
    if task is None or not task.requested:
        raise UnknownTask(task_id)
    if task.status is not TaskStatus.ACCEPTED or task.program_id is None:
        raise NotAccepted(task.status)
    seats.free_seat(repository, task)
    repository.update_task(task_id, status=TaskStatus.COMPLETED.value)
    program = programs[task.program_id]
    detail = {**seats.program_detail(program, task.request.region), "outcome": outcome}
    seats.answer(uow, task, TaskStatus.COMPLETED, detail=detail)
    seats.promote(uow, repository, [program.id], cause=None)
    positions.announce(uow, repository)
