"""The runtime's own tables, added to every service's metadata: outbox and inbox."""

from __future__ import annotations

import sqlalchemy as sa


def add_runtime_tables(metadata: sa.MetaData) -> tuple[sa.Table, sa.Table]:
    outbox = sa.Table(
        "outbox",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("event_id", sa.String(64), nullable=False, unique=True),
        sa.Column("stream", sa.String(120), nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        # Which relay is sending the row, and until when the others leave it alone:
        # replicas share one outbox without sending every row once each.
        sa.Column("claimed_by", sa.String(160), nullable=True),
        sa.Column("claimed_until", sa.DateTime(timezone=True), nullable=True),
        # Kept after publishing (for the retention period) so that `korpu recover`
        # can republish after Redis lost its streams.
        sa.Index("ix_outbox_unpublished", "published_at", "id"),
        sa.Index("ix_outbox_created", "created_at"),
    )
    inbox = sa.Table(
        "inbox",
        metadata,
        sa.Column("handler", sa.String(120), primary_key=True),
        sa.Column("event_id", sa.String(64), primary_key=True),
        sa.Column("processed_at", sa.DateTime(timezone=True), nullable=False),
    )
    # Entries carrying personal data that were given up on (korpu_runtime.parking).
    sa.Table(
        "parked_entries",
        metadata,
        sa.Column("token", sa.String(200), primary_key=True),
        sa.Column("body", sa.LargeBinary, nullable=False),
        sa.Column("parked_at", sa.DateTime(timezone=True), nullable=False),
    )
    return outbox, inbox
