"""The tables every provider database holds besides its directory and tasks."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import sqlalchemy as sa

from korpu_provider import tasks
from korpu_runtime import migrations, provider_access
from korpu_runtime import tables as runtime_tables


class Schema:
    """A provider's metadata with the runtime's outbox and inbox and its case workers' access.

    The case workers' organizations, their API keys and the audit trail of what
    they read and did (korpu_runtime.provider_access) live in the provider's own
    database, beside its tasks.
    """

    def __init__(self, migrations_dir: Path) -> None:
        self.metadata = sa.MetaData()
        # Made and changed only by the revisions in `migrations_dir` (docs/migrations.md):
        # a table or column added needs a revision, or the schema test fails.
        migrations.attach(self.metadata, migrations_dir)
        self.outbox, self.inbox = runtime_tables.add_runtime_tables(self.metadata)
        self.access = provider_access.add_tables(self.metadata)

    def directory(self, name: str, *columns: sa.Column[Any]) -> sa.Table:
        """A directory's table: the id its tasks hold, the unique name a seed file keys on
        (loading again updates the entry of that name), then the provider's columns."""
        return sa.Table(
            name,
            self.metadata,
            sa.Column("id", sa.String(36), primary_key=True),
            sa.Column("name", sa.String(200), nullable=False, unique=True),
            *columns,
        )

    def tasks(self, *columns: sa.Column[Any]) -> sa.Table:
        """The `tasks` table (korpu_provider.tasks) with the provider's own columns."""
        return tasks.table(self.metadata, *columns)
