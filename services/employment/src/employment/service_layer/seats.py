"""Giving seats, freeing them to the next person waiting, and telling the referrer each time."""

from __future__ import annotations

from collections.abc import Iterable

from employment.adapters.repository import Repository, Task
from employment.domain import model, waitlist
from korpu_contracts import providers, streams
from korpu_contracts.envelope import Envelope, source_of
from korpu_contracts.vocabulary import Reason, Service, TaskStatus
from korpu_runtime import logging as runtime_logging
from korpu_runtime.unit_of_work import UnitOfWork

SOURCE = source_of("employment")
log = runtime_logging.get(__name__)

Detail = dict[str, str | int | bool | None]


def program_detail(program: model.Program, asked: str | None = None) -> Detail:
    # What was given, never who else is in it (the agency contract, README); and,
    # only when true, that it is outside the region asked for (`asked`).
    detail: Detail = {"program": program.name, "region": program.region}
    if asked is not None and program.region != asked:
        detail["out_of_region"] = True
    return detail


def answer(
    uow: UnitOfWork,
    task: Task,
    status: TaskStatus,
    reason: Reason | None = None,
    detail: Detail | None = None,
    cause: Envelope | None = None,
) -> None:
    """Publish one TaskUpdated for `task`, through the outbox of this transaction."""
    envelope = providers.answer(
        source=SOURCE,
        service=Service.EMPLOYMENT,
        task_id=task.task_id,
        referral_id=task.referral_id,
        status=status,
        revision=Repository(uow.conn).next_revision(task.task_id),
        reason=reason,
        detail=detail,
        cause=cause,
    )
    uow.publish(streams.EMPLOYMENT_UPDATES, envelope)


def enrol(
    uow: UnitOfWork,
    repository: Repository,
    task: Task,
    program: model.Program,
    cause: Envelope | None,
) -> None:
    repository.update_task(
        task.task_id, status=TaskStatus.ACCEPTED.value, program_id=program.id, reason=None
    )
    repository.add_to_enrolled(program.id, +1)
    detail = program_detail(program, task.request.region)
    answer(uow, task, TaskStatus.ACCEPTED, detail=detail, cause=cause)
    log.info("task_enrolled", task_id=task.task_id, program_id=program.id)


def free_seat(repository: Repository, task: Task) -> str | None:
    """Give back the seat the task held; returns its program id, None when it held none."""
    if task.status is not TaskStatus.ACCEPTED or task.program_id is None:
        return None
    repository.add_to_enrolled(task.program_id, -1)
    return task.program_id


def promote(
    uow: UnitOfWork,
    repository: Repository,
    program_ids: Iterable[str],
    cause: Envelope | None,
) -> int:
    """Fill every free seat of these programs from the waitlist; returns how many were enrolled.

    Children first, then the longest waiting (`waitlist.next_for_seat`). The caller
    holds the directory lock.
    """
    promoted = 0
    for program_id in program_ids:
        while True:
            program = repository.program(program_id)
            chosen = waitlist.next_for_seat(program, repository.waiting())
            if chosen is None:
                break
            task = repository.task(chosen.task_id)
            assert task is not None
            enrol(uow, repository, task, program, cause)
            promoted += 1
    return promoted
