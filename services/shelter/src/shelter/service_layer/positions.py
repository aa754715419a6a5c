"""Telling the people still waiting their new place in line when it moves."""

from __future__ import annotations

from korpu_contracts.vocabulary import Reason, TaskStatus
from korpu_runtime.unit_of_work import UnitOfWork
from shelter.adapters.repository import ShelterRepository, bed_request
from shelter.domain import waitlist
from shelter.service_layer import replies


def announce(uow: UnitOfWork, repository: ShelterRepository) -> None:
    """Answer on-hold again, with the new position, to each waiting task whose place changed.

    Called, in the same transaction, after whatever moves the line: a promotion,
    a cancellation, a discharge, a directory load. Each answer is news on that
    person's own case, so it names no cause (see `handlers.fill`). Everyone is
    recomputed by the rule of the first answer, O(waiting²): cheap for waitlists
    of hundreds. Rejected: working out whom a change can move, which would
    restate the domain's rule of who competes with whom.
    """
    rows = repository.waiting_tasks()
    waiting = [bed_request(row) for row in rows]
    for row, request in zip(rows, waiting, strict=True):
        position = waitlist.waitlist_position(request, waiting)
        if position == row.announced_position:
            continue
        repository.set_announced(row.task_id, position)
        replies.Reply(uow, row.task_id, row.referral_id).tell(
            TaskStatus.ON_HOLD, Reason(row.reason), {"waitlist_position": position}
        )
