"""The national coordinator (issue 13): identification, the recovery and reflection period,
each case's safety risk, extensions of the period, and the escalations already made.

Revision 0003_coordinator, after 0002. The recovery period of a case already
received ends 30 days after it was received (the Convention's least), as a new
one's does by default.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from alembic import op

from korpu_runtime import schema_steps

revision = "0003_coordinator"
down_revision = "0002"
branch_labels = None
depends_on = None

# The default recovery period when this revision was written (REFERRAL_RECOVERY_PERIOD_DAYS).
RECOVERY_DAYS = 30


def upgrade() -> None:
    # Only what is missing: a database made by `create_all` from these very tables (a
    # build between the baseline and migrations, as the schema test makes one) has them.
    _add_missing(
        "referrals",
        sa.Column("safety_risk", sa.String(length=10), nullable=True),
        sa.Column(
            "identification", sa.String(length=20), nullable=False, server_default="potential"
        ),
        sa.Column("identification_decided_on", sa.Date(), nullable=True),
        sa.Column("recovery_ends_on", sa.Date(), nullable=True),
    )
    _fill_recovery_ends()
    if schema_steps.missing("recovery_extensions"):
        op.create_table(
            "recovery_extensions",
            sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
            sa.Column("referral_id", sa.String(length=36), nullable=False),
            sa.Column("days", sa.Integer(), nullable=False),
            sa.Column("reason", sa.String(length=40), nullable=False),
            sa.Column("ends_on", sa.Date(), nullable=False),
            sa.Column("extended_at", sa.DateTime(timezone=True), nullable=False),
            sa.ForeignKeyConstraint(["referral_id"], ["referrals.id"]),
            sa.PrimaryKeyConstraint("id"),
        )
        op.create_index(
            "ix_recovery_extensions_referral_id", "recovery_extensions", ["referral_id"]
        )
    if schema_steps.missing("escalations"):
        op.create_table(
            "escalations",
            sa.Column("referral_id", sa.String(length=36), nullable=False),
            sa.Column("item", sa.String(length=120), nullable=False),
            sa.Column("kind", sa.String(length=30), nullable=False),
            sa.Column("escalated_at", sa.DateTime(timezone=True), nullable=False),
            sa.ForeignKeyConstraint(["referral_id"], ["referrals.id"]),
            sa.PrimaryKeyConstraint("referral_id", "item"),
        )


def _add_missing(table: str, *columns: sa.Column[Any]) -> None:
    present = {column["name"] for column in sa.inspect(op.get_bind()).get_columns(table)}
    to_add = [column for column in columns if column.name not in present]
    if not to_add:
        return
    with op.batch_alter_table(table) as batch:
        for column in to_add:
            batch.add_column(column)


def _fill_recovery_ends() -> None:
    # Row by row in Python: date arithmetic differs between SQLite and PostgreSQL,
    # and a referral service holds thousands of cases, not millions.
    referrals = sa.table(
        "referrals",
        sa.column("id", sa.String),
        sa.column("created_at", sa.DateTime(timezone=True)),
        sa.column("recovery_ends_on", sa.Date),
    )
    bind = op.get_bind()
    query = sa.select(referrals.c.id, referrals.c.created_at)
    rows = bind.execute(query.where(referrals.c.recovery_ends_on.is_(None))).all()
    for row in rows:
        ends_on = row.created_at.date() + dt.timedelta(days=RECOVERY_DAYS)
        bind.execute(
            referrals.update().where(referrals.c.id == row.id).values(recovery_ends_on=ends_on)
        )


def downgrade() -> None:
    raise NotImplementedError("revisions only go forward: restore the backup taken before")
