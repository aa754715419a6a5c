"""The psychological service's tables: its counsellor directory and the tasks it was asked for."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

from korpu_provider import caseloads
from korpu_provider.schema import Schema

# Made and changed only by the revisions in migrations/ (docs/migrations.md).
schema = Schema(Path(__file__).parent / "migrations")
metadata = schema.metadata

# The directory, loaded by `korpu seed` and upserted by name.
counsellors = schema.directory(
    "counsellors",
    *caseloads.directory_columns(
        # Trained and cleared to counsel children: a child is given no other counsellor.
        sa.Column("children", sa.Boolean, nullable=False, default=False),
    ),
)
tasks = schema.tasks(*caseloads.task_columns("counsellor_id", "counsellors"))
