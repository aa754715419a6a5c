"""Telling the people still waiting their new place in line when it moves."""

from __future__ import annotations

from korpu_contracts.vocabulary import Reason, TaskStatus
from korpu_runtime.unit_of_work import UnitOfWork
from legal_aid.adapters.repository import Repository, case_request
from legal_aid.domain import waitlist
from legal_aid.service_layer import answers


def announce(uow: UnitOfWork, repository: Repository) -> None:
    """Answer on-hold again, with the new position, to each waiting task whose place changed.

    Called, in the same transaction, after whatever moves the line: a child
    waitlisted, an assignment from the waitlist, a cancellation, a case ended, a
    directory load. Each answer is news on that person's own case, sent with no
    cause: whoever moved the line is another person's case (see `Envelope.caused`).
    Everyone is recomputed by the rule of the first answer, O(waiting²): cheap
    for waitlists of hundreds. Rejected: working out whom a change can move,
    which would restate the domain's rule of who competes with whom.
    """
    rows = repository.waiting_tasks()
    waiting = [case_request(row) for row in rows]
    for row, request in zip(rows, waiting, strict=True):
        position = waitlist.waitlist_position(request, waiting)
        if position == row.announced_position:
            continue
        repository.save(row.task_id, announced_position=position)
        reason = Reason(row.reason)
        answers.send(uow, row, TaskStatus.ON_HOLD, reason=reason, detail=answers.on_hold(position))
