"""The material assistance service's tables: its funds and the tasks it was asked for.

Money is whole minor units of the fund's currency (`domain.money`), in integer columns.
"""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

from korpu_provider.schema import Schema

# Made and changed only by the revisions in migrations/ (docs/migrations.md).
schema = Schema(Path(__file__).parent / "migrations")
metadata = schema.metadata

# The directory, loaded by `korpu seed` and upserted by name. `committed` is what the
# fund's allowances hold, paid or about to be: it grows when one is given, shrinks when
# one is cancelled before it is paid.
funds = schema.directory(
    "funds",
    sa.Column("region", sa.String(60), nullable=False),
    sa.Column("currency", sa.String(3), nullable=False),
    sa.Column("budget", sa.BigInteger, nullable=False),
    sa.Column("committed", sa.BigInteger, nullable=False),
    sa.Column("amount_per_person", sa.BigInteger, nullable=False),
)

# Coarse attributes only (region, is_child). `amount` and `currency` are what the task
# holds once given: a cancellation gives back exactly that, whatever the fund's
# allowance became since.
tasks = schema.tasks(
    sa.Column("is_child", sa.Boolean, nullable=False),
    sa.Column("fund_id", sa.ForeignKey("funds.id"), nullable=True),
    sa.Column("amount", sa.BigInteger, nullable=True),
    sa.Column("currency", sa.String(3), nullable=True),
    sa.Column("outcome", sa.String(500), nullable=True),
)
