"""Numbering a provider's answers about one task, so a reader can tell older from newer."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Connection


def next_revision(conn: Connection, tasks: sa.Table, task_id: str) -> int:
    """Count one more answer sent about `task_id`; returns its `TaskUpdated.revision`.

    `tasks` is the provider's own table, with `task_id` and an integer `revision`.
    Called in the transaction whose change the answer reports: the UPDATE holds
    the row until commit, so the numbers follow the order of the changes even
    across replicas. Rejected: a counter in memory, which a restart or a second
    replica would start again from 1.
    """
    revision = conn.execute(
        tasks.update()
        .where(tasks.c.task_id == task_id)
        .values(revision=tasks.c.revision + 1)
        .returning(tasks.c.revision)
    ).scalar_one()
    return int(revision)
