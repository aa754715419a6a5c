"""One transaction of a service: its state changes, the events they cause, its inbox record."""

from __future__ import annotations

import functools
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from korpu_contracts.envelope import Envelope


class UnitOfWork:
    """Handed to every handler: `conn` for the service's own tables, `publish` for events.

    Events are written to the outbox in the same transaction as the state change;
    the relay sends them after commit. Rejected: publishing inline after commit
    (eShop's way), which loses the event if the process dies between the two.
    """

    def __init__(self, conn: Connection, outbox: sa.Table, inbox: sa.Table) -> None:
        self.conn = conn
        self._outbox = outbox
        self._inbox = inbox
        self.published = 0

    def publish(self, stream: str, envelope: Envelope) -> None:
        self.publish_all([(stream, envelope)])

    def publish_all(self, events: list[tuple[str, Envelope]]) -> None:
        """Several events in one statement: a referral's requests leave together."""
        if not events:
            return
        at = datetime.now(UTC)
        rows = [
            {"event_id": e.id, "stream": stream, "body": e.to_json(), "created_at": at}
            for stream, e in events
        ]
        self.conn.execute(_writing(self._outbox), rows)
        self.published += len(rows)

    def first_time(self, handler: str, event_id: str) -> bool:
        """Record that `handler` processed `event_id`; False when it already had.

        Committed with the handler's effects, so a redelivered entry finds its
        record and does nothing (the eventsourcing library's tracking row).
        """
        statement = _recording(self.conn.dialect.name, self._inbox)
        values = {"handler": handler, "event_id": event_id, "at": datetime.now(UTC)}
        return self.conn.execute(statement, values).first() is not None

    def forget(self, handler: str, event_id: str) -> None:
        """Undo `first_time` for an event its handler refused as not from whom it claims:
        a forger choosing a genuine event's id must not have that event dropped."""
        inbox = self._inbox
        self.conn.execute(
            inbox.delete().where(inbox.c.handler == handler, inbox.c.event_id == event_id)
        )


@functools.cache
def _writing(outbox: sa.Table) -> sa.Insert:
    """The outbox insert, built once per table: it runs for every event published."""
    return outbox.insert()


@functools.cache
def _recording(dialect: str, inbox: sa.Table) -> sa.Insert:
    """The inbox insert, built once per dialect and table: it runs for every event handled."""
    dialect_insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return (
        dialect_insert(inbox)
        .values(
            handler=sa.bindparam("handler"),
            event_id=sa.bindparam("event_id"),
            processed_at=sa.bindparam("at", type_=sa.DateTime(timezone=True)),
        )
        .on_conflict_do_nothing()
        # RETURNING, not rowcount: psycopg reports no row count for this statement.
        .returning(inbox.c.event_id)
    )
