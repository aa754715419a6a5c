"""The shelter service's tables: its directory of facilities and the tasks it was asked for.

No personal data: a task row holds the coarse attributes the placement rules need
(region, is_child, sex, accompanying children, pregnant, disability), never who
the person is.
"""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

from korpu_provider.schema import Schema

# Made and changed only by the revisions in migrations/ (docs/migrations.md).
schema = Schema(Path(__file__).parent / "migrations")
metadata = schema.metadata

facilities = schema.directory(
    "facilities",
    # An ISO 3166-2 code (korpu_contracts.regions), as the seed file's name resolves.
    sa.Column("region", sa.String(60), nullable=False),
    # Category values (women, men, girls, boys, families), sorted.
    sa.Column("serves", sa.JSON, nullable=False),
    sa.Column("beds", sa.Integer, nullable=False),
    # What the placement rules read besides the categories (domain/model.py Facility).
    sa.Column("child_unit", sa.Boolean, nullable=False, default=False, server_default=sa.false()),
    sa.Column(
        "accepts_pregnant", sa.Boolean, nullable=False, default=True, server_default=sa.true()
    ),
    sa.Column("accessible", sa.Boolean, nullable=False, default=False, server_default=sa.false()),
    # Kept in step with the accepted tasks, under the directory lock.
    sa.Column("occupied", sa.Integer, nullable=False, default=0),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
)

tasks = schema.tasks(
    # The first schema's tombstone marker, still written (korpu_provider.tasks).
    sa.Column("awaiting_request", sa.Boolean, nullable=False, default=False),
    sa.Column("is_child", sa.Boolean, nullable=True),
    sa.Column("sex", sa.String(10), nullable=True),
    sa.Column("accompanying_children", sa.Integer, nullable=True),
    sa.Column("pregnant", sa.Boolean, nullable=True),
    sa.Column("disability", sa.Boolean, nullable=True),
    # The bed's facility while accepted; kept afterwards to say where the person was.
    sa.Column("facility_id", sa.ForeignKey("facilities.id"), nullable=True),
)
