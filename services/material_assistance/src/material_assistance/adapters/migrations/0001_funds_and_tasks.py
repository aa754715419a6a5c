"""The material assistance service's first schema: the kit's tables, its funds and tasks.

Revision 0001, the first. A new provider has no older database to recognise.
"""

from __future__ import annotations

import sqlalchemy as sa

from korpu_provider.revisions import append_only as downgrade
from korpu_provider.revisions import first_revision

revision = "0001"
down_revision = None
__all__ = ["downgrade", "upgrade"]


def upgrade() -> None:
    first_revision(
        "funds",
        [
            sa.Column("region", sa.String(length=60), nullable=False),
            sa.Column("currency", sa.String(length=3), nullable=False),
            sa.Column("budget", sa.BigInteger(), nullable=False),
            sa.Column("committed", sa.BigInteger(), nullable=False),
            sa.Column("amount_per_person", sa.BigInteger(), nullable=False),
        ],
        [
            sa.Column("is_child", sa.Boolean(), nullable=False),
            sa.Column("amount", sa.BigInteger(), nullable=True),
            sa.Column("currency", sa.String(length=3), nullable=True),
            sa.Column("outcome", sa.String(length=500), nullable=True),
        ],
        holds="fund_id",
    )
