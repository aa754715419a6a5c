"""Steps for a provider's migrations (docs/migrations.md): what every provider's schema holds.

Frozen like any revision: a step here, once released, never changes; a later change
to the kit's tables is a new step, called by a new revision of every provider.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

from korpu_runtime import schema_steps


def first_revision(
    directory: str,
    directory_columns: list[sa.Column[Any]],
    task_columns: list[sa.Column[Any]],
    holds: str,
) -> None:
    """A new provider's whole first revision: the runtime's tables, the case workers'
    access, its directory (`directory`) and its tasks, whose `holds` column refers to it."""
    schema_steps.create_runtime_tables()
    schema_steps.add_case_workers_access()
    create_directory(directory, *directory_columns)
    create_tasks(
        directory,
        holds,
        sa.Column("region", sa.String(length=60), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("reason", sa.String(length=30), nullable=True),
        sa.Column("announced_position", sa.Integer(), nullable=True),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column(holds, sa.String(length=36), nullable=True),
        *task_columns,
    )


def create_directory(name: str, *columns: sa.Column[Any]) -> None:
    """A directory's table: its id, its unique name, then `columns`."""
    op.create_table(
        name,
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        *columns,
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name"),
    )


def create_tasks(directory: str, holds: str, *columns: sa.Column[Any]) -> None:
    """The `tasks` table: arrival order, task and referral ids, then `columns` (among them
    `holds`, the directory entry a task holds), then when it came and last changed."""
    op.create_table(
        "tasks",
        sa.Column("queued_seq", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("task_id", sa.String(length=64), nullable=False),
        sa.Column("referral_id", sa.String(length=64), nullable=False),
        *columns,
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint([holds], [f"{directory}.id"]),
        sa.PrimaryKeyConstraint("queued_seq"),
        sa.UniqueConstraint("task_id"),
    )
    op.create_index("ix_tasks_status", "tasks", ["status"])


def append_only() -> None:
    """A downgrade past a revision that made the audit trail, which is append-only."""
    raise NotImplementedError("not undone: the audit trail is append-only; restore a backup")


def add_task_history() -> None:
    """Issue 13 (case workers' actions): the history of each task's answers, and the index
    `GET /v1/tasks` reads what changed since by. Revision `0003_tasks` of every provider.

    Each made only where missing, as `add_case_workers_access`: a database made by a
    build before migrations is stamped at its baseline and made today's (`create_all`)
    tables with it."""
    if not _has_index("tasks", "ix_tasks_updated_at_task_id"):
        op.create_index("ix_tasks_updated_at_task_id", "tasks", ["updated_at", "task_id"])
    if not schema_steps.missing("task_history"):
        return
    op.create_table(
        "task_history",
        sa.Column("task_id", sa.String(length=64), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("reason", sa.String(length=30), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("task_id", "revision"),
    )


def _has_index(table: str, name: str) -> bool:
    return any(index["name"] == name for index in sa.inspect(op.get_bind()).get_indexes(table))
