"""Every service's outbox read, never written: the events naming some ids, sent or not."""

from __future__ import annotations

import dataclasses
import datetime as dt
import sqlite3
from collections.abc import Iterable
from pathlib import Path

import pydantic
import sqlalchemy as sa

from korpu import catalog
from korpu_runtime import settings

_OUTBOX = sa.table(
    "outbox",
    sa.column("id", sa.Integer),
    sa.column("event_id", sa.String),
    sa.column("stream", sa.String),
    sa.column("body", sa.Text),
    sa.column("created_at", sa.DateTime(timezone=True)),
    sa.column("published_at", sa.DateTime(timezone=True)),
)


@dataclasses.dataclass(frozen=True)
class Row:
    service: str
    event_id: str
    stream: str
    # The envelope as published: no event in an outbox carries personal data (the one
    # that does, the intake, is written by agencies), and only its ids are read.
    body: str
    created_at: dt.datetime
    unsent: bool


def matching(service: str, names: Iterable[str], limit: int) -> list[Row] | None:
    """`service`'s rows whose event names any of `names`, newest first, at most `limit`;
    [] when its database does not exist yet, None when it cannot be read.

    `names` must be ids (letters, digits, '.', '_', ':', '-'): they become LIKE patterns,
    escaped, and a candidate row is only that: the caller checks its envelope.
    """
    try:
        url = sa.make_url(catalog.settings(service).database_url)
    except (pydantic.ValidationError, settings.SettingsRefused, sa.exc.ArgumentError):
        return None  # its settings do not read: neither would the service's own
    if url.get_backend_name() == "sqlite" and not Path(url.database or "").exists():
        return []
    engine = _engine(url)
    try:
        with engine.connect() as conn:
            return [_row(service, row) for row in conn.execute(_query(names, limit))]
    except sa.exc.SQLAlchemyError:
        # Told by the caller as "could not be read": a driver's message may quote values.
        return None
    finally:
        engine.dispose()


def _engine(url: sa.URL) -> sa.Engine:
    """Read-only on SQLite. Rejected: korpu_runtime's Database, whose every SQLite
    transaction takes the write lock (BEGIN IMMEDIATE): a look must not make a running
    service's writes wait, nor create a file where none is."""
    if url.get_backend_name() != "sqlite":
        return sa.create_engine(url, poolclass=sa.pool.NullPool, hide_parameters=True)
    location = Path(url.database or "").resolve().as_uri() + "?mode=ro"

    def connect() -> sqlite3.Connection:
        return sqlite3.connect(location, uri=True, timeout=30)

    return sa.create_engine("sqlite://", creator=connect, poolclass=sa.pool.NullPool)


def _query(names: Iterable[str], limit: int) -> sa.Select[str, str, str, dt.datetime, bool]:
    outbox = _OUTBOX.c
    named: list[sa.ColumnElement[bool]] = [outbox.event_id.in_(list(names))]
    named += [outbox.body.contains(name, autoescape=True) for name in names]
    return (
        sa.select(
            outbox.event_id,
            outbox.stream,
            outbox.body,
            outbox.created_at,
            outbox.published_at.is_(None),
        )
        .where(sa.or_(*named))
        .order_by(outbox.id.desc())
        .limit(limit)
    )


def _row(service: str, row: sa.Row[str, str, str, dt.datetime, bool]) -> Row:
    event_id, stream, body, created_at, unsent = row
    if created_at.tzinfo is None:  # SQLite keeps no zone: the runtime writes UTC
        created_at = created_at.replace(tzinfo=dt.UTC)
    return Row(service, event_id, stream, body, created_at, bool(unsent))
