"""Baseline: the employment service's schema as build 23a1693 made it (docs/migrations.md)."""

import sqlalchemy as sa

from korpu_provider import revisions
from korpu_runtime import schema_steps

revision, down_revision = "0001", None
# A database with these tables and no alembic_version was made by that build: stamped here.
RECOGNISED_BY = ("inbox", "outbox", "parked_entries", "programs", "tasks")


def upgrade() -> None:
    schema_steps.create_runtime_tables()
    revisions.create_directory(
        "programs",
        sa.Column("region", sa.String(length=60), nullable=False),
        sa.Column("seats", sa.Integer(), nullable=False),
        sa.Column("enrolled", sa.Integer(), nullable=False),
        sa.Column("languages", sa.JSON(), nullable=False),
        sa.Column("min_age", sa.Integer(), nullable=False),
    )
    revisions.create_tasks(
        "programs",
        "program_id",
        sa.Column("requested", sa.Boolean(), nullable=False),
        sa.Column("region", sa.String(length=60), nullable=True),
        sa.Column("age_years", sa.Integer(), nullable=True),
        sa.Column("is_child", sa.Boolean(), nullable=False),
        sa.Column("languages", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("program_id", sa.String(length=36), nullable=True),
        sa.Column("reason", sa.String(length=30), nullable=True),
        sa.Column("announced_position", sa.Integer(), nullable=True),
        sa.Column("revision", sa.Integer(), nullable=False),
    )


def downgrade() -> None:
    raise NotImplementedError("the baseline is not undone: restore a backup instead")
