"""The psychological service's tables: its counsellor directory and the tasks it was asked for."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

from korpu_provider.schema import Schema

# Made and changed only by the revisions in migrations/ (docs/migrations.md).
schema = Schema(Path(__file__).parent / "migrations")
metadata = schema.metadata

# The directory, loaded by `korpu seed` and upserted by name; `caseload` counts open cases.
counsellors = schema.directory(
    "counsellors",
    sa.Column("regions", sa.JSON, nullable=False),
    sa.Column("languages", sa.JSON, nullable=False),
    sa.Column("max_caseload", sa.Integer, nullable=False),
    sa.Column("caseload", sa.Integer, nullable=False, default=0),
    # Trained and cleared to counsel children: a child is given no other counsellor.
    sa.Column("children", sa.Boolean, nullable=False, default=False),
)

# Coarse attributes only (region, languages, is_child): enough to decide again for
# the waitlist, never who the person is.
tasks = schema.tasks(
    sa.Column("counsellor_id", sa.ForeignKey("counsellors.id"), nullable=True),
    sa.Column("languages", sa.JSON, nullable=False),
    sa.Column("is_child", sa.Boolean, nullable=False),
    sa.Column("interpreter_needed", sa.Boolean, nullable=True),
    sa.Column("outcome", sa.String(500), nullable=True),
)
