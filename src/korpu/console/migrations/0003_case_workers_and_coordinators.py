"""Case workers and coordinators: the service, organization and sealed key each acts with.

Revision 0003, after 0002.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("console_users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("service", sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column("organization_id", sa.String(length=36), nullable=True))
        batch_op.add_column(sa.Column("entries", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("key_id", sa.String(length=36), nullable=True))
        batch_op.add_column(sa.Column("sealed_key", sa.LargeBinary(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("console_users", schema=None) as batch_op:
        batch_op.drop_column("sealed_key")
        batch_op.drop_column("key_id")
        batch_op.drop_column("entries")
        batch_op.drop_column("organization_id")
        batch_op.drop_column("service")
