"""What case workers read: the directory with its use, and one task's state."""

from __future__ import annotations

from typing import Any

from sqlalchemy.engine import Connection

from korpu_contracts.vocabulary import TaskStatus
from legal_aid.adapters.repository import Repository, case_request
from legal_aid.domain import waitlist


def lawyers(conn: Connection) -> list[dict[str, Any]]:
    return [
        {
            "id": row.id,
            "name": row.name,
            "regions": row.regions,
            "languages": row.languages,
            "max_caseload": row.max_caseload,
            "caseload": row.caseload,
            "free": max(row.max_caseload - row.caseload, 0),
        }
        for row in Repository(conn).directory()
    ]


def task(conn: Connection, task_id: str) -> dict[str, Any] | None:
    repository = Repository(conn)
    row = repository.task(task_id)
    if row is None:
        return None
    position = None
    if row.status == TaskStatus.ON_HOLD:
        # Computed now, not stored: it moves as people ahead are placed or withdraw.
        position = waitlist.waitlist_position(case_request(row), repository.waiting())
    lawyer = repository.lawyer(row.lawyer_id) if row.lawyer_id else None
    return {
        "task_id": row.task_id,
        "referral_id": row.referral_id,
        "status": row.status,
        "reason": row.reason,
        "lawyer": None if lawyer is None else lawyer.name,
        "interpreter_needed": row.interpreter_needed,
        "waitlist_position": position,
        "outcome": row.outcome,
    }
