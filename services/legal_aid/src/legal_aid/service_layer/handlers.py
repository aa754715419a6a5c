"""Answering task requests and cancellations, and ending cases: every caseload change."""

from __future__ import annotations

from korpu_contracts import referral, registry
from korpu_contracts.envelope import Envelope
from korpu_contracts.vocabulary import FINAL_TASK_STATUSES, Reason, TaskStatus
from korpu_runtime import logging as runtime_logging
from korpu_runtime.unit_of_work import UnitOfWork
from legal_aid.adapters.repository import Repository, TaskRow, case_request
from legal_aid.domain import assignment, model, waitlist
from legal_aid.service_layer import answers, positions

log = runtime_logging.get(__name__)


class UnknownTask(LookupError):
    pass


class NotAccepted(ValueError):
    def __init__(self, status: str) -> None:
        super().__init__(status)
        self.status = status


def request(uow: UnitOfWork, envelope: Envelope) -> None:
    """Assign a lawyer, waitlist or reject; once per task id, whatever the deliveries."""
    requested = registry.read(envelope, referral.TaskRequested)
    repository = Repository(uow.conn)
    # The lock comes before reading the task, so a cancellation handled by another
    # replica at the same moment is seen here once it commits, not half-way.
    lawyers = repository.lawyers(lock=True)
    known = repository.task(requested.task_id)
    if known is not None and known.region is not None:
        log.info("task_already_known", task_id=requested.task_id)
        return
    if known is not None:
        # The cancellation overtook its request (the request's entry failed once and
        # was retried, or a relay sent it again): answer, but never allocate.
        repository.fill_tombstone(requested)
        reason = Reason(known.reason or Reason.WITHDRAWN)
        answers.send(uow, known, TaskStatus.CANCELLED, reason=reason, cause=envelope)
        return
    task = repository.add_task(requested)
    decision = assignment.decide(case_request(task), lawyers, repository.waiting())
    if isinstance(decision, model.Assigned):
        _assign(uow, repository, task, decision.lawyer_id, decision.interpreter_needed, envelope)
    else:
        _refuse(uow, repository, task, decision, envelope)


def cancel(uow: UnitOfWork, envelope: Envelope) -> None:
    """Withdraw a task: free its lawyer for the next person waiting, or leave a tombstone."""
    cancelled = registry.read(envelope, referral.TaskCancelled)
    repository = Repository(uow.conn)
    repository.lawyers(lock=True)
    task = repository.task(cancelled.task_id)
    if task is None:
        # Its request is still on the way: the tombstone keeps it from being allocated.
        repository.add_tombstone(cancelled.task_id, cancelled.referral_id, cancelled.reason)
        log.info("task_cancelled_before_request", task_id=cancelled.task_id)
        return
    if TaskStatus(task.status) in FINAL_TASK_STATUSES:
        return
    holds = task.lawyer_id if task.status == TaskStatus.ACCEPTED else None
    repository.save(task.task_id, status=TaskStatus.CANCELLED, reason=cancelled.reason)
    answers.send(uow, task, TaskStatus.CANCELLED, reason=cancelled.reason, cause=envelope)
    log.info("task_cancelled", task_id=task.task_id, freed=holds is not None)
    if holds is not None:
        _free(uow, repository, holds, envelope)
    positions.announce(uow, repository)


def complete(uow: UnitOfWork, task_id: str, outcome: str) -> None:
    """A case worker ends a case: its lawyer takes the next person waiting."""
    repository = Repository(uow.conn)
    repository.lawyers(lock=True)
    task = repository.task(task_id)
    if task is None:
        raise UnknownTask(task_id)
    if task.status != TaskStatus.ACCEPTED:
        raise NotAccepted(task.status)
    lawyer = repository.lawyer(task.lawyer_id)
    repository.save(task_id, status=TaskStatus.COMPLETED, outcome=outcome)
    answers.send(uow, task, TaskStatus.COMPLETED, detail=answers.completed(lawyer.name, outcome))
    log.info("task_completed", task_id=task_id)
    _free(uow, repository, lawyer.id, None)
    positions.announce(uow, repository)


def fill_waitlist(uow: UnitOfWork, repository: Repository) -> int:
    """Give lawyers with room to the people waiting, children first; how many were placed.

    For capacity added by the directory; the caller holds the directory lock.
    """
    placed = 0
    for case in waitlist.ordered(repository.waiting()):
        decision = assignment.decide(case, repository.lawyers(), [])
        if isinstance(decision, model.Assigned):
            task = _task(repository, case.task_id)
            _assign(uow, repository, task, decision.lawyer_id, decision.interpreter_needed, None)
            placed += 1
    return placed


def _free(uow: UnitOfWork, repository: Repository, lawyer_id: str, cause: Envelope | None) -> None:
    repository.release(lawyer_id)
    next_case = waitlist.next_for_lawyer(repository.lawyer(lawyer_id), repository.waiting())
    if next_case is None:
        return
    task = _task(repository, next_case.request.task_id)
    _assign(uow, repository, task, lawyer_id, next_case.interpreter_needed, cause)
    log.info("waiting_task_promoted", task_id=task.task_id)


def _assign(
    uow: UnitOfWork,
    repository: Repository,
    task: TaskRow,
    lawyer_id: str,
    interpreter_needed: bool,
    cause: Envelope | None,
) -> None:
    repository.take(lawyer_id)
    repository.save(
        task.task_id,
        status=TaskStatus.ACCEPTED,
        reason=None,
        lawyer_id=lawyer_id,
        interpreter_needed=interpreter_needed,
    )
    detail = answers.accepted(repository.lawyer(lawyer_id).name, interpreter_needed)
    answers.send(uow, task, TaskStatus.ACCEPTED, detail=detail, cause=cause)
    log.info("task_decided", task_id=task.task_id, status=TaskStatus.ACCEPTED)


def _refuse(
    uow: UnitOfWork,
    repository: Repository,
    task: TaskRow,
    decision: model.Waitlisted | model.Rejected,
    cause: Envelope,
) -> None:
    """No lawyer now: on hold with the waitlist position, or rejected with the reason."""
    reason = Reason(decision.reason)
    position = decision.position if isinstance(decision, model.Waitlisted) else None
    if position is not None:
        status, detail = TaskStatus.ON_HOLD, answers.on_hold(position)
    else:
        status, detail = TaskStatus.REJECTED, {}
    repository.save(task.task_id, status=status, reason=reason, announced_position=position)
    answers.send(uow, task, status, reason=reason, detail=detail, cause=cause)
    log.info("task_decided", task_id=task.task_id, status=status, reason=reason)
    if position is not None and task.is_child:
        # A child goes ahead of the adults waiting in the same region; an adult
        # joins at the end and moves nobody, so there is nothing to recount.
        positions.announce(uow, repository)


def _task(repository: Repository, task_id: str) -> TaskRow:
    task = repository.task(task_id)
    assert task is not None
    return task
