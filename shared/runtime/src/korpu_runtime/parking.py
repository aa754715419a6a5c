"""Entries carrying personal data, given up on: kept in the service's own database.

A dead letter lives in Redis, where any operator reads it and `korpu dlq show`
prints it. An intake entry holds a person's name, birth date and story, which
must never leave the referral service (README, Personal data). So when such an entry dies,
its body is parked in the service's database under a token, and the dead letter
carries only the token; a replay carries the token back, and the service takes
the body from its own table. Rejected: dropping the body (the referral would be
lost) and copying it into the dead letter (the person would leave the service).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Protocol

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection


class ParkedEntryMissing(LookupError):
    """A replay names a parked entry this service does not hold."""


class Sealer(Protocol):
    """Encrypts a parked body at rest: the service that owns personal data supplies it.

    The runtime knows no keys; it only names where the body is kept (`place`),
    so a sealed body cannot be moved under another token.
    """

    def seal_bytes(self, plain: bytes, place: str) -> bytes: ...

    def open_bytes(self, sealed: bytes, place: str) -> bytes: ...


def place(token: str) -> str:
    """What a parked body is bound to when sealed: its table, token and column."""
    return f"parked_entries/{token}/body"


def _table(conn: Connection) -> sa.Table:
    return sa.Table(
        "parked_entries",
        sa.MetaData(),
        sa.Column("token", sa.String(200), primary_key=True),
        sa.Column("body", sa.LargeBinary),
        sa.Column("parked_at", sa.DateTime(timezone=True)),
    )


def token_for(stream: str, entry_id: str) -> str:
    """The same token for the same entry, so parking twice (after a crash) keeps one row."""
    return f"{stream}/{entry_id}"


def park(conn: Connection, token: str, body: bytes, sealer: Sealer | None = None) -> None:
    table = _table(conn)
    if sealer is not None:
        body = sealer.seal_bytes(body, place(token))
    insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
    conn.execute(
        insert(table)
        .values(token=token, body=body, parked_at=datetime.now(UTC))
        .on_conflict_do_nothing()
    )


def take_back(conn: Connection, token: str, sealer: Sealer | None = None) -> bytes:
    """The parked body; kept until the replay succeeds (it commits with the handler)."""
    table = _table(conn)
    body = conn.execute(sa.select(table.c.body).where(table.c.token == token)).scalar()
    if body is None:
        raise ParkedEntryMissing(token)
    conn.execute(table.delete().where(table.c.token == token))
    return bytes(body) if sealer is None else sealer.open_bytes(bytes(body), place(token))
