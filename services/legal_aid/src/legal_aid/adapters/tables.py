"""The legal aid service's tables: its lawyer directory and the tasks it was asked for."""

from __future__ import annotations

from pathlib import Path

from korpu_provider import caseloads
from korpu_provider.schema import Schema

# Made and changed only by the revisions in migrations/ (docs/migrations.md).
schema = Schema(Path(__file__).parent / "migrations")
metadata = schema.metadata

# The directory, loaded by `korpu seed` and upserted by name.
lawyers = schema.directory("lawyers", *caseloads.directory_columns())
tasks = schema.tasks(*caseloads.task_columns("lawyer_id", "lawyers"))
