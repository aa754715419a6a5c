"""The employment service's tables: its program directory and the tasks it was asked for.

No personal data: a task row holds only the coarse attributes the referral
service sent (region, age in years, is_child, languages).
"""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

from korpu_provider.schema import Schema

# Made and changed only by the revisions in migrations/ (docs/migrations.md).
schema = Schema(Path(__file__).parent / "migrations")
metadata = schema.metadata

programs = schema.directory(
    "programs",
    sa.Column("region", sa.String(60), nullable=False),
    sa.Column("seats", sa.Integer, nullable=False),
    sa.Column("enrolled", sa.Integer, nullable=False),
    sa.Column("languages", sa.JSON, nullable=False),
    sa.Column("min_age", sa.Integer, nullable=False),
)

tasks = schema.tasks(
    # The first schema's tombstone marker (False for one), still written (korpu_provider.tasks).
    sa.Column("requested", sa.Boolean, nullable=False),
    sa.Column("age_years", sa.Integer, nullable=True),
    sa.Column("is_child", sa.Boolean, nullable=False),
    sa.Column("languages", sa.JSON, nullable=False),
    sa.Column("program_id", sa.ForeignKey("programs.id"), nullable=True),
)
