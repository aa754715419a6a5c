"""The shelter service's tables: its directory of facilities and the tasks it was asked for.

No personal data: a task row holds the coarse attributes the placement rules need
(region, is_child, sex, accompanying children, pregnant, disability), never who
the person is.
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

facilities = sa.Table(
    "facilities",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    # The seed file's key: loading a directory again updates rows by name.
    sa.Column("name", sa.String(200), nullable=False, unique=True),
    # An ISO 3166-2 code (korpu_contracts.regions), as the seed file's name resolves.
    sa.Column("region", sa.String(60), nullable=False),
    # Category values (women, men, girls, boys, families), sorted.
    sa.Column("serves", sa.JSON, nullable=False),
    sa.Column("beds", sa.Integer, nullable=False),
    # What the placement rules read besides the categories (domain/model.py Facility).
    sa.Column("child_unit", sa.Boolean, nullable=False, default=False, server_default=sa.false()),
    sa.Column(
        "accepts_pregnant", sa.Boolean, nullable=False, default=True, server_default=sa.true()
    ),
    sa.Column("accessible", sa.Boolean, nullable=False, default=False, server_default=sa.false()),
    # Kept in step with the accepted tasks, under the directory lock (see repository).
    sa.Column("occupied", sa.Integer, nullable=False, default=0),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
)

tasks = sa.Table(
    "tasks",
    metadata,
    # Arrival order for the waitlist. The primary key because SQLite only
    # autoincrements an INTEGER PRIMARY KEY; rejected: task_id as the key with a
    # MAX()+1 counter, one more thing to get right under concurrency.
    sa.Column("queued_seq", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("task_id", sa.String(64), nullable=False, unique=True),
    sa.Column("referral_id", sa.String(64), nullable=False),
    # True for a tombstone: a cancellation that overtook its request. The
    # attributes below stay NULL until that request arrives.
    sa.Column("awaiting_request", sa.Boolean, nullable=False, default=False),
    sa.Column("region", sa.String(60), nullable=True),
    sa.Column("is_child", sa.Boolean, nullable=True),
    sa.Column("sex", sa.String(10), nullable=True),
    sa.Column("accompanying_children", sa.Integer, nullable=True),
    sa.Column("pregnant", sa.Boolean, nullable=True),
    sa.Column("disability", sa.Boolean, nullable=True),
    # accepted | on-hold | rejected | cancelled | completed
    sa.Column("status", sa.String(20), nullable=False, index=True),
    sa.Column("reason", sa.String(30), nullable=True),
    # The waitlist position last sent while on hold: when the line moves, only
    # the people whose place changed are told again (`positions.announce`).
    sa.Column("announced_position", sa.Integer, nullable=True),
    # How many answers were sent about this task: the last one's `revision`, so the
    # referral service can tell an old answer delivered late from a new one.
    sa.Column("revision", sa.Integer, nullable=False, default=0),
    # The bed's facility while accepted; kept afterwards to say where the person was.
    sa.Column("facility_id", sa.ForeignKey("facilities.id"), nullable=True),
    sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
)
