"""Migration steps every service's revisions share: the runtime's own tables, as they were.

Each function makes tables exactly as they stood at the revisions that call it,
and is frozen like a revision: a later change to the runtime's tables is a new
function called by new revisions, never an edit here, or a database migrated
before the edit and one migrated after would differ. Only revisions call these.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from korpu_runtime import append_only


def create_runtime_tables() -> None:
    """outbox, inbox and parked_entries (`tables.add_runtime_tables`), as at build 23a1693."""
    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("event_id", sa.String(length=64), nullable=False),
        sa.Column("stream", sa.String(length=120), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("claimed_by", sa.String(length=160), nullable=True),
        sa.Column("claimed_until", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("event_id"),
    )
    op.create_index("ix_outbox_created", "outbox", ["created_at"])
    op.create_index("ix_outbox_unpublished", "outbox", ["published_at", "id"])
    op.create_table(
        "inbox",
        sa.Column("handler", sa.String(length=120), nullable=False),
        sa.Column("event_id", sa.String(length=64), nullable=False),
        sa.Column("processed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("handler", "event_id"),
    )
    op.create_table(
        "parked_entries",
        sa.Column("token", sa.String(length=200), nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.Column("parked_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("token"),
    )


def create_organizations() -> None:
    """organizations and organization_keys (`api_keys.add_tables`), as at build 23a1693."""
    op.create_table(
        "organizations",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name"),
    )
    op.create_table(
        "organization_keys",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("organization_id", sa.String(length=36), nullable=False),
        sa.Column("prefix", sa.String(length=16), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("scopes", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_reason", sa.String(length=500), nullable=True),
        sa.ForeignKeyConstraint(["organization_id"], ["organizations.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("key_hash"),
    )
    op.create_index(
        "ix_organization_keys_organization_id", "organization_keys", ["organization_id"]
    )


def create_key_limits() -> None:
    """organization_key_limits: a key's own rate limit (issue 10)."""
    op.create_table(
        "organization_key_limits",
        sa.Column("key_id", sa.String(length=36), nullable=False),
        sa.Column("rate_per_minute", sa.Integer(), nullable=False),
        sa.Column("set_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["key_id"], ["organization_keys.id"]),
        sa.PrimaryKeyConstraint("key_id"),
    )


def create_audit_log(subject: str, subject_length: int) -> None:
    """audit_log (`audit.add_table`) with its append-only triggers, as at build 23a1693."""
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor_kind", sa.String(length=20), nullable=False),
        sa.Column("actor_id", sa.String(length=200), nullable=False),
        sa.Column("organization_id", sa.String(length=36), nullable=True),
        sa.Column(subject, sa.String(length=subject_length), nullable=True),
        sa.Column("action", sa.String(length=40), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_audit_log_at", "audit_log", ["at"])
    op.create_index(f"ix_audit_log_{subject}", "audit_log", [subject])
    append_only.create_triggers(op.get_bind(), "audit_log")


def add_case_workers_access() -> None:
    """A provider's case workers' organizations, keys, key limits and audit trail (issue
    10), each table made only where it is missing (`missing`): every provider's 0002."""
    if missing("organizations"):
        create_organizations()
    if missing("organization_key_limits"):
        create_key_limits()
    if missing("audit_log"):
        # The provider's trail is about its tasks (provider_access.SUBJECT, _LENGTH).
        create_audit_log("task_id", 64)


def missing(table: str) -> bool:
    """Whether `table` is still to be made: a database made by a build between the
    baseline and migrations may have it already (create_all made it at start)."""
    return not sa.inspect(op.get_bind()).has_table(table)
