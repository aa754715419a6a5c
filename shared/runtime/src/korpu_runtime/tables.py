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
        # Kept after publishing so that `korpu recover` can republish after a wipe.
        sa.Index("ix_outbox_unpublished", "published_at", "id"),
    )
    inbox = sa.Table(
        "inbox",
        metadata,
        sa.Column("handler", sa.String(120), primary_key=True),
        sa.Column("event_id", sa.String(64), primary_key=True),
        sa.Column("processed_at", sa.DateTime(timezone=True), nullable=False),
    )
    return outbox, inbox
