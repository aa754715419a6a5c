"""What the case workers' API shows: the directory with its use, and one task."""

from __future__ import annotations

from typing import Any

from sqlalchemy.engine import Connection

from employment.adapters.repository import Repository
from employment.domain import model, waitlist
from korpu_contracts.vocabulary import TaskStatus


def programs_view(conn: Connection) -> list[dict[str, Any]]:
    repository = Repository(conn)
    waiting = repository.waiting()
    return [
        {
            "id": program.id,
            "name": program.name,
            "region": program.region,
            "seats": program.seats,
            "enrolled": program.enrolled,
            "free_seats": program.free_seats,
            "languages": sorted(program.languages),
            "min_age": program.min_age,
            # People waiting whom this program could take: where more seats would help.
            "waiting": sum(1 for request in waiting if model.admits(program, request)),
        }
        for program in repository.programs()
    ]


def task_view(conn: Connection, task_id: str) -> dict[str, Any] | None:
    repository = Repository(conn)
    task = repository.task(task_id)
    if task is None or not task.requested:
        # A tombstone is a cancellation we never had a request for: not a task here.
        return None
    programs = {program.id: program for program in repository.programs()}
    held = programs.get(task.program_id) if task.program_id else None
    position = None
    if task.status is TaskStatus.ON_HOLD:
        position = waitlist.waitlist_position(task.request, repository.waiting(), programs.values())
    return {
        "task_id": task.task_id,
        "referral_id": task.referral_id,
        "status": str(task.status),
        "reason": str(task.reason) if task.reason else None,
        "program": None
        if held is None
        else {"id": held.id, "name": held.name, "region": held.region},
        "waitlist_position": position,
    }
