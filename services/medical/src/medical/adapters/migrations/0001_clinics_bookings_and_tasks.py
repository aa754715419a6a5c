"""The medical service's first schema: what every provider has, its clinics, tasks and bookings.

Revision 0001, the first. A new provider has no database from an older build, so
nothing is recognised here (docs/adding-a-provider.md).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from korpu_provider.revisions import append_only as downgrade
from korpu_provider.revisions import first_revision

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None
__all__ = ["downgrade", "upgrade"]


def upgrade() -> None:
    first_revision(
        "clinics",
        [
            sa.Column("region", sa.String(length=60), nullable=False),
            sa.Column("serves", sa.JSON(), nullable=False),
            sa.Column("appointments_per_day", sa.Integer(), nullable=False),
            sa.Column("booking_days", sa.Integer(), nullable=False),
        ],
        [
            sa.Column("is_child", sa.Boolean(), nullable=True),
            sa.Column("sex", sa.String(length=10), nullable=True),
            sa.Column("appointment", sa.String(length=10), nullable=True),
        ],
        holds="clinic_id",
    )
    op.create_table(
        "bookings",
        sa.Column("clinic_id", sa.String(length=36), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("booked", sa.Integer(), nullable=False),
        sa.CheckConstraint("booked >= 0"),
        sa.ForeignKeyConstraint(["clinic_id"], ["clinics.id"]),
        sa.PrimaryKeyConstraint("clinic_id", "day"),
    )
