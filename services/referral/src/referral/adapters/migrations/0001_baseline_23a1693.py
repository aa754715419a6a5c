"""Baseline: the referral service's schema as build 23a1693 made it (docs/migrations.md)."""

import sqlalchemy as sa
from alembic import op

from korpu_runtime import schema_steps

revision, down_revision = "0001", None
# A database with these tables and no alembic_version was made by that build: stamped here.
RECOGNISED_BY = (
    "audit_log",
    "consents",
    "flags",
    "history",
    "idempotency_keys",
    "inbox",
    "intake_rejections",
    "organization_keys",
    "organizations",
    "outbox",
    "parked_entries",
    "persons",
    "referrals",
    "replaced_tasks",
    "tasks",
)


def upgrade() -> None:
    schema_steps.create_runtime_tables()
    schema_steps.create_organizations()
    op.create_table(
        "intake_rejections",
        sa.Column("entry_id", sa.String(length=40), nullable=False),
        sa.Column("organization_id", sa.String(length=64), nullable=True),
        sa.Column("idempotency_key", sa.String(length=200), nullable=True),
        sa.Column("errors", sa.JSON(), nullable=False),
        sa.Column("raw_entry", sa.Text(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("entry_id"),
    )
    op.create_table(
        "referrals",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("organization_id", sa.String(length=36), nullable=False),
        sa.Column("agency_reference", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("region", sa.String(length=60), nullable=False),
        sa.Column("is_child", sa.Boolean(), nullable=False),
        sa.Column("sex", sa.String(length=10), nullable=False),
        sa.Column("needs", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("erased_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_referrals_closed_at", "referrals", ["closed_at"])
    op.create_index("ix_referrals_organization_id", "referrals", ["organization_id"])
    op.create_table(
        "consents",
        sa.Column("referral_id", sa.String(length=36), nullable=False),
        sa.Column("purpose", sa.String(length=20), nullable=False),
        sa.Column("consent", sa.String(length=30), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["referral_id"],
            ["referrals.id"],
        ),
        sa.PrimaryKeyConstraint("referral_id", "purpose"),
    )
    op.create_table(
        "flags",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("referral_id", sa.String(length=36), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("related_referral_id", sa.String(length=36), nullable=True),
        sa.Column("raised_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["referral_id"],
            ["referrals.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("referral_id", "kind"),
    )
    op.create_index("ix_flags_referral_id", "flags", ["referral_id"])
    op.create_table(
        "history",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("referral_id", sa.String(length=36), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("service", sa.String(length=20), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("reason", sa.String(length=30), nullable=True),
        sa.Column("purpose", sa.String(length=20), nullable=True),
        sa.Column("consent", sa.String(length=30), nullable=True),
        sa.ForeignKeyConstraint(
            ["referral_id"],
            ["referrals.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_history_referral_id", "history", ["referral_id"])
    op.create_table(
        "idempotency_keys",
        sa.Column("organization_id", sa.String(length=36), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("body_hash", sa.String(length=64), nullable=False),
        sa.Column("referral_id", sa.String(length=36), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
        ),
        sa.ForeignKeyConstraint(
            ["referral_id"],
            ["referrals.id"],
        ),
        sa.PrimaryKeyConstraint("organization_id", "key"),
    )
    op.create_table(
        "persons",
        sa.Column("referral_id", sa.String(length=36), nullable=False),
        sa.Column("given_name", sa.Text(), nullable=False),
        sa.Column("family_name", sa.Text(), nullable=False),
        sa.Column("date_of_birth", sa.Text(), nullable=True),
        sa.Column("age_estimate", sa.Text(), nullable=True),
        sa.Column("possibly_minor", sa.Boolean(), nullable=False),
        sa.Column("sex", sa.String(length=10), nullable=False),
        sa.Column("languages", sa.Text(), nullable=False),
        sa.Column("nationality", sa.Text(), nullable=True),
        sa.Column("contact_phone", sa.Text(), nullable=True),
        sa.Column("circumstances", sa.Text(), nullable=False),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("match_key", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["referral_id"],
            ["referrals.id"],
        ),
        sa.PrimaryKeyConstraint("referral_id"),
    )
    op.create_index("ix_persons_match_key", "persons", ["match_key"])
    op.create_table(
        "replaced_tasks",
        sa.Column("task_id", sa.String(length=36), nullable=False),
        sa.Column("referral_id", sa.String(length=36), nullable=False),
        sa.Column("service", sa.String(length=20), nullable=False),
        sa.Column("replaced_by", sa.String(length=36), nullable=False),
        sa.Column("replaced_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["referral_id"],
            ["referrals.id"],
        ),
        sa.PrimaryKeyConstraint("task_id"),
    )
    op.create_index("ix_replaced_tasks_referral_id", "replaced_tasks", ["referral_id"])
    op.create_table(
        "tasks",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("referral_id", sa.String(length=36), nullable=False),
        sa.Column("service", sa.String(length=20), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("reason", sa.String(length=30), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["referral_id"],
            ["referrals.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("referral_id", "service"),
    )
    op.create_index("ix_tasks_referral_id", "tasks", ["referral_id"])
    schema_steps.create_audit_log("referral_id", 36)


def downgrade() -> None:
    raise NotImplementedError("the baseline is not undone: restore a backup instead")
