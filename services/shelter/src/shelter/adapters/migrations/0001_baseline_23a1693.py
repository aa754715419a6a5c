"""Baseline: the shelter service's schema as build 23a1693 made it (docs/migrations.md)."""

import sqlalchemy as sa

from korpu_provider import revisions
from korpu_runtime import schema_steps

revision, down_revision = "0001", None
# A database with these tables and no alembic_version was made by that build: stamped here.
RECOGNISED_BY = ("facilities", "inbox", "outbox", "parked_entries", "tasks")


def upgrade() -> None:
    schema_steps.create_runtime_tables()
    revisions.create_directory(
        "facilities",
        sa.Column("region", sa.String(length=60), nullable=False),
        sa.Column("serves", sa.JSON(), nullable=False),
        sa.Column("beds", sa.Integer(), nullable=False),
        sa.Column("occupied", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    revisions.create_tasks(
        "facilities",
        "facility_id",
        sa.Column("awaiting_request", sa.Boolean(), nullable=False),
        sa.Column("region", sa.String(length=60), nullable=True),
        sa.Column("is_child", sa.Boolean(), nullable=True),
        sa.Column("sex", sa.String(length=10), nullable=True),
        sa.Column("accompanying_children", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("reason", sa.String(length=30), nullable=True),
        sa.Column("announced_position", sa.Integer(), nullable=True),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("facility_id", sa.String(length=36), nullable=True),
    )


def downgrade() -> None:
    raise NotImplementedError("the baseline is not undone: restore a backup instead")
