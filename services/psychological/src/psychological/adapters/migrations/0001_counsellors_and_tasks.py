"""The psychological service's first schema: the kit's tables, counsellors and tasks.

Revision 0001, the first. A new provider has no database from an older build, so
nothing is recognised and stamped (docs/migrations.md).
"""

from __future__ import annotations

import sqlalchemy as sa

from korpu_provider import revisions

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    revisions.first_revision(
        "counsellors",
        directory_columns=[
            sa.Column("regions", sa.JSON(), nullable=False),
            sa.Column("languages", sa.JSON(), nullable=False),
            sa.Column("max_caseload", sa.Integer(), nullable=False),
            sa.Column("caseload", sa.Integer(), nullable=False),
            sa.Column("children", sa.Boolean(), nullable=False),
        ],
        holds="counsellor_id",
        task_columns=[
            sa.Column("languages", sa.JSON(), nullable=False),
            sa.Column("is_child", sa.Boolean(), nullable=False),
            sa.Column("interpreter_needed", sa.Boolean(), nullable=True),
            sa.Column("outcome", sa.String(length=500), nullable=True),
        ],
    )


downgrade = revisions.append_only
