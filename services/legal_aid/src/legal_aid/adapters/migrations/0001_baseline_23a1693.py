"""The legal aid service's schema as build 23a1693 made it: the baseline.

A database made by that build (or by a later one before migrations) is
recognised by the tables in `RECOGNISED_BY` and stamped here, not made again.

Revision 0001, the first.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from korpu_runtime import schema_steps

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

# The tables of build 23a1693: a database holding them all and no alembic_version
# is stamped at this revision (korpu_runtime.migrations).
RECOGNISED_BY = (
    "inbox",
    "lawyers",
    "outbox",
    "parked_entries",
    "tasks",
)


def upgrade() -> None:
    schema_steps.create_runtime_tables()
    op.create_table(
        "lawyers",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("regions", sa.JSON(), nullable=False),
        sa.Column("languages", sa.JSON(), nullable=False),
        sa.Column("max_caseload", sa.Integer(), nullable=False),
        sa.Column("caseload", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name"),
    )
    op.create_table(
        "tasks",
        sa.Column("queued_seq", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("task_id", sa.String(length=64), nullable=False),
        sa.Column("referral_id", sa.String(length=64), nullable=False),
        sa.Column("region", sa.String(length=60), nullable=True),
        sa.Column("languages", sa.JSON(), nullable=False),
        sa.Column("is_child", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("reason", sa.String(length=30), nullable=True),
        sa.Column("announced_position", sa.Integer(), nullable=True),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("lawyer_id", sa.String(length=36), nullable=True),
        sa.Column("interpreter_needed", sa.Boolean(), nullable=True),
        sa.Column("outcome", sa.String(length=500), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["lawyer_id"],
            ["lawyers.id"],
        ),
        sa.PrimaryKeyConstraint("queued_seq"),
        sa.UniqueConstraint("task_id"),
    )
    op.create_index("ix_tasks_status", "tasks", ["status"])


def downgrade() -> None:
    raise NotImplementedError("the baseline is not undone: restore a backup instead")
