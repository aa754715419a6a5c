"""What the placement rules read besides the categories (issue 11).

Revision 0003, after 0002. A facility's children's unit, whether it accepts
pregnant women and whether it is accessible, with the defaults a directory
loaded before meant (no unit, pregnancy accepted, not accessible); and a
task's `pregnant` and `disability`, NULL in a row stored before (read as not
said, as the contract's default).

Regions stay as stored: a name in a row written before regions were codes is
read as its code (`korpu_contracts.regions.code_or_as_sent`), because the
gazetteer is data that may be replaced and a revision must not change with it.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Only what is missing: a database made by `create_all` from these very tables (a
    # build between the baseline and migrations, as the schema test makes one) has them.
    _add_missing(
        "facilities",
        sa.Column("child_unit", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("accepts_pregnant", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("accessible", sa.Boolean(), server_default=sa.false(), nullable=False),
    )
    _add_missing(
        "tasks",
        sa.Column("pregnant", sa.Boolean(), nullable=True),
        sa.Column("disability", sa.Boolean(), nullable=True),
    )


def _add_missing(table: str, *columns: sa.Column[bool]) -> None:
    present = {column["name"] for column in sa.inspect(op.get_bind()).get_columns(table)}
    to_add = [column for column in columns if column.name not in present]
    if not to_add:
        return
    with op.batch_alter_table(table, schema=None) as batch_op:
        for column in to_add:
            batch_op.add_column(column)


def downgrade() -> None:
    raise NotImplementedError("revisions only go forward: restore the backup taken before")
