"""Telling the people still waiting their new place in line when it moves."""

from __future__ import annotations

from employment.adapters.repository import Repository
from employment.domain import waitlist
from employment.service_layer import seats
from korpu_contracts.vocabulary import TaskStatus
from korpu_runtime.unit_of_work import UnitOfWork


def announce(uow: UnitOfWork, repository: Repository) -> None:
    """Answer on-hold again, with the new position, to each waiting task whose place changed.

    Called, in the same transaction, after whatever moves the line: a child
    waitlisted, an enrolment from the waitlist, a cancellation, a completion, a
    directory load. Each answer is news on that person's own case, sent with no
    cause: whoever moved the line is another person's case (see `Envelope.caused`).
    Everyone is recomputed by the rule of the first answer, O(waiting²): cheap
    for waitlists of hundreds. Rejected: working out whom a change can move,
    which would restate the domain's rule of who competes with whom.
    """
    tasks = repository.waiting_tasks()
    waiting = [task.request for task in tasks]
    programs = repository.programs()
    for task in tasks:
        position = waitlist.waitlist_position(task.request, waiting, programs)
        if position == task.announced_position:
            continue
        repository.update_task(task.task_id, announced_position=position)
        detail: seats.Detail = {"waitlist_position": position}
        seats.answer(uow, task, TaskStatus.ON_HOLD, task.reason, detail)
