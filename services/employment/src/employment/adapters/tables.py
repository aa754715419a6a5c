"""The employment service's tables: its program directory and the tasks it was asked for.

No personal data: a task row holds only the coarse attributes the referral
service sent (region, age in years, is_child, languages).
"""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

from korpu_runtime import migrations, provider_access
from korpu_runtime import tables as runtime_tables

metadata = sa.MetaData()
# Made and changed only by the revisions in migrations/ (docs/migrations.md): a table
# or column added here needs a revision, or the schema test fails.
migrations.attach(metadata, Path(__file__).parent / "migrations")
outbox, inbox = runtime_tables.add_runtime_tables(metadata)
# The case workers' organizations, their API keys and the audit trail of what they
# read and did (korpu_runtime.provider_access): here, in this provider's own database.
access = provider_access.add_tables(metadata)

programs = sa.Table(
    "programs",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    # The seed file's key: loading it again updates the program instead of adding one.
    sa.Column("name", sa.String(200), nullable=False, unique=True),
    sa.Column("region", sa.String(60), nullable=False),
    sa.Column("seats", sa.Integer, nullable=False),
    sa.Column("enrolled", sa.Integer, nullable=False),
    sa.Column("languages", sa.JSON, nullable=False),
    sa.Column("min_age", sa.Integer, nullable=False),
)

tasks = sa.Table(
    "tasks",
    metadata,
    # Arrival order for the waitlist ("longest waiting first"). It is the primary
    # key because SQLite autoincrements only its integer primary key; rejected:
    # max()+1, which two PostgreSQL replicas could both compute, and a timestamp,
    # which two hosts' clocks can order wrongly.
    sa.Column("queued_seq", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("task_id", sa.String(64), nullable=False, unique=True),
    sa.Column("referral_id", sa.String(64), nullable=False),
    # False for a tombstone: the cancellation arrived before the request.
    sa.Column("requested", sa.Boolean, nullable=False),
    sa.Column("region", sa.String(60), nullable=True),
    sa.Column("age_years", sa.Integer, nullable=True),
    sa.Column("is_child", sa.Boolean, nullable=False),
    sa.Column("languages", sa.JSON, nullable=False),
    # accepted | on-hold | rejected | cancelled | completed
    sa.Column("status", sa.String(20), nullable=False, index=True),
    sa.Column("program_id", sa.ForeignKey("programs.id"), nullable=True),
    sa.Column("reason", sa.String(30), nullable=True),
    # The waitlist position last sent while on hold: when the line moves, only
    # the people whose place changed are told again (`positions.announce`).
    sa.Column("announced_position", sa.Integer, nullable=True),
    # How many answers were sent about this task: the last one's `revision`, so the
    # referral service can tell an old answer delivered late from a new one.
    sa.Column("revision", sa.Integer, nullable=False, default=0),
    sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
)
