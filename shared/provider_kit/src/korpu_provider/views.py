"""What case workers read of tasks (one, with its history, or what changed since); the
directory's view is the provider's own.

A task's view names the task, its referral, where it stands and what it holds,
never the person: the coarse attributes a task row keeps for the rules (age,
sex, languages, ...) are not shown.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy.engine import Connection

from korpu_contracts.vocabulary import TaskStatus
from korpu_provider import cursor, waitlist
from korpu_provider.handlers import AnyProvider
from korpu_provider.tasks import Row, utc


def task(provider: AnyProvider, conn: Connection, task_id: str) -> dict[str, Any] | None:
    """None for a task never requested (a tombstone alone is not a task yet)."""
    row = provider.tasks.task(conn, task_id)
    if row is None:
        return None
    (position,) = _positions(provider, conn, [row])
    history = [
        {"at": utc(step.at).isoformat(), "status": step.status, "reason": step.reason}
        | {"revision": step.revision, "detail": step.detail}
        for step in provider.tasks.history_of(conn, task_id)
    ]
    return {**_view(provider, conn, row, position), "history": history}


def changed(
    provider: AnyProvider,
    conn: Connection,
    *,
    after: tuple[dt.datetime, str] | None,
    since: dt.datetime | None,
    status: TaskStatus | None,
    limit: int,
) -> dict[str, Any]:
    """One page of the tasks changed since, oldest change first, and where the next begins.

    `next_cursor` is the last row's place, or the one asked from when nothing has
    changed: a poller keeps it and asks again later. `more` says whether to ask at once.
    """
    rows = provider.tasks.changed(conn, after=after, since=since, status=status, limit=limit + 1)
    page, more = rows[:limit], len(rows) > limit
    positions = _positions(provider, conn, page)
    views = [_view(provider, conn, row, p) for row, p in zip(page, positions, strict=True)]
    last = (page[-1].updated_at, page[-1].task_id) if page else after
    next_cursor = None if last is None else cursor.encode(utc(last[0]), last[1])
    return {"tasks": views, "next_cursor": next_cursor, "more": more}


def _view(
    provider: AnyProvider, conn: Connection, row: Row, position: int | None
) -> dict[str, Any]:
    return {
        "task_id": row.task_id,
        "referral_id": row.referral_id,
        "status": row.status,
        "reason": row.reason,
        "waitlist_position": position,
        "updated_at": utc(row.updated_at).isoformat(),
        "revision": row.revision,
        **provider.shown(conn, row),
    }


def _positions(provider: AnyProvider, conn: Connection, rows: Sequence[Row]) -> list[int | None]:
    """Each on-hold row's place in line, computed now, not stored: it moves whenever someone
    ahead is placed or leaves; None for the others. The line is read once per page."""
    holding = [row for row in rows if row.status == TaskStatus.ON_HOLD]
    if not holding:
        return [None] * len(rows)
    requests = [provider.request_of(row) for row in holding]
    waiting = [provider.request_of(other) for other in provider.tasks.waiting(conn)]
    directory = provider.directory(conn, lock=False).values()
    places = waitlist.positions(requests, waiting, directory, provider.serves)
    by_task = {row.task_id: place for row, place in zip(holding, places, strict=True)}
    return [by_task.get(row.task_id) for row in rows]
