"""The legal aid service's tables: its lawyer directory and the tasks it was asked for."""

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

# The directory, loaded by `korpu seed` and upserted by name; `caseload` counts open cases.
lawyers = sa.Table(
    "lawyers",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("name", sa.String(200), nullable=False, unique=True),
    sa.Column("regions", sa.JSON, nullable=False),
    sa.Column("languages", sa.JSON, nullable=False),
    sa.Column("max_caseload", sa.Integer, nullable=False),
    sa.Column("caseload", sa.Integer, nullable=False, default=0),
)

# Coarse attributes only (region, languages, is_child): enough to re-decide for the
# waitlist, never who the person is. `queued_seq` is the primary key rather than
# `task_id` because SQLite only autoincrements its rowid key; rejected: a
# max()+1 counter, which two replicas on PostgreSQL could read at the same time.
# A row with a NULL region is a tombstone: a cancellation that overtook its request.
tasks = sa.Table(
    "tasks",
    metadata,
    sa.Column("queued_seq", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("task_id", sa.String(64), nullable=False, unique=True),
    sa.Column("referral_id", sa.String(64), nullable=False),
    sa.Column("region", sa.String(60), nullable=True),
    sa.Column("languages", sa.JSON, nullable=False),
    sa.Column("is_child", sa.Boolean, nullable=False),
    sa.Column("status", sa.String(20), nullable=False, index=True),
    sa.Column("reason", sa.String(30), nullable=True),
    # The waitlist position last sent while on hold: when the line moves, only
    # the people whose place changed are told again (`positions.announce`).
    sa.Column("announced_position", sa.Integer, nullable=True),
    # How many answers were sent about this task: the last one's `revision`, so the
    # referral service can tell an old answer delivered late from a new one.
    sa.Column("revision", sa.Integer, nullable=False, default=0),
    sa.Column("lawyer_id", sa.ForeignKey("lawyers.id"), nullable=True),
    sa.Column("interpreter_needed", sa.Boolean, nullable=True),
    sa.Column("outcome", sa.String(500), nullable=True),
    sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
)
