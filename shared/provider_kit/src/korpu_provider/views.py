"""What case workers read of one task; the directory's view is the provider's own."""

from __future__ import annotations

from typing import Any

from sqlalchemy.engine import Connection

from korpu_contracts.vocabulary import TaskStatus
from korpu_provider import waitlist
from korpu_provider.handlers import AnyProvider


def task(provider: AnyProvider, conn: Connection, task_id: str) -> dict[str, Any] | None:
    """None for a task never requested (a tombstone alone is not a task yet)."""
    row = provider.tasks.task(conn, task_id)
    if row is None:
        return None
    position = None
    if row.status == TaskStatus.ON_HOLD:
        # Computed now, not stored: it moves whenever someone ahead is placed or leaves.
        request = provider.request_of(row)
        waiting = [provider.request_of(other) for other in provider.tasks.waiting(conn)]
        directory = provider.directory(conn, lock=False).values()
        (position,) = waitlist.positions([request], waiting, directory, provider.serves)
    return {
        "task_id": row.task_id,
        "referral_id": row.referral_id,
        "status": row.status,
        "reason": row.reason,
        "waitlist_position": position,
        **provider.shown(conn, row),
    }
