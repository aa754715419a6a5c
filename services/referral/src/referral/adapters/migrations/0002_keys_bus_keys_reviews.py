"""Key limits, agencies' bus keys, duplicates in review, the match index's versions,
and idempotency keys up to 255 characters (issue 10).

Revision 0002, after 0001. Each table is made only where it is missing: a
database made by a build between 23a1693 and migrations has some already.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from korpu_runtime import schema_steps

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

# intake.IDEMPOTENCY_KEY_MAX when this revision was written (the HTTP edge allows 255).
OLD_KEY_LENGTH, KEY_LENGTH = 200, 255


def upgrade() -> None:
    if schema_steps.missing("organization_key_limits"):
        schema_steps.create_key_limits()
    if schema_steps.missing("organization_bus_keys"):
        op.create_table(
            "organization_bus_keys",
            sa.Column("key_id", sa.String(length=40), nullable=False),
            sa.Column("organization_id", sa.String(length=36), nullable=False),
            sa.Column("public_key", sa.String(length=64), nullable=False),
            sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
            sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
            sa.ForeignKeyConstraint(["organization_id"], ["organizations.id"]),
            sa.PrimaryKeyConstraint("key_id"),
        )
        op.create_index(
            "ix_organization_bus_keys_organization_id",
            "organization_bus_keys",
            ["organization_id"],
        )
    if schema_steps.missing("reviews"):
        op.create_table(
            "reviews",
            sa.Column("referral_id", sa.String(length=36), nullable=False),
            sa.Column("kind", sa.String(length=40), nullable=False),
            sa.Column("related_referral_id", sa.String(length=36), nullable=True),
            sa.Column("strength", sa.String(length=10), nullable=False),
            sa.Column("raised_at", sa.DateTime(timezone=True), nullable=False),
            sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
            sa.Column("resolution", sa.String(length=30), nullable=True),
            sa.ForeignKeyConstraint(["referral_id"], ["referrals.id"]),
            sa.PrimaryKeyConstraint("referral_id"),
        )
        op.create_index("ix_reviews_raised_at", "reviews", ["raised_at"])
    if schema_steps.missing("match_index_versions"):
        op.create_table(
            "match_index_versions",
            sa.Column("version", sa.Integer(), autoincrement=False, nullable=False),
            sa.Column("completed_at", sa.DateTime(timezone=True), nullable=False),
            sa.Column("reindexed", sa.Integer(), nullable=False),
            sa.PrimaryKeyConstraint("version"),
        )
    # On SQLite a batch copies the table into the new shape (its rows with it).
    with op.batch_alter_table("idempotency_keys") as batch:
        batch.alter_column(
            "key",
            existing_type=sa.String(length=OLD_KEY_LENGTH),
            type_=sa.String(length=KEY_LENGTH),
            existing_nullable=False,
        )
    with op.batch_alter_table("intake_rejections") as batch:
        batch.alter_column(
            "idempotency_key",
            existing_type=sa.String(length=OLD_KEY_LENGTH),
            type_=sa.String(length=KEY_LENGTH),
            existing_nullable=True,
        )


def downgrade() -> None:
    raise NotImplementedError("not undone: a key of 255 characters would not fit; restore a backup")
