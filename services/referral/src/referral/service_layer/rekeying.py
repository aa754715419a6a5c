"""`korpu keys rotate`: every sealed value not under the current key, sealed again under it.

Runs beside the live services: a batch of rows per short transaction, so no
request waits long on a lock (SQLite has one writer at a time), and each row is
rewritten only if it is still as read (an erasure meanwhile wins). It loops
until a pass finds nothing left under an older key, so a row written during the
rotation by a replica still sealing with the old key is taken too. Rejected:
one transaction over every row (it would hold SQLite's writer for the whole
run), and re-encrypting on read (rows nobody reads would stay under the old key
for ever, and the old key could never be removed).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from korpu_runtime import parking
from korpu_runtime.database import Database
from referral.adapters import audit, sealed_persons, sealing, tables, webhook_endpoints

ROTATED = "keys_rotated"  # the audit action
BATCH = 100


@dataclasses.dataclass
class Rotated:
    key_id: str
    persons: int = 0
    intake_rejections: int = 0
    parked_entries: int = 0
    webhook_endpoints: int = 0
    # Rows still under an older key when done: changed under the rotation every
    # time it tried, so run it again (never more than a few, in practice none).
    remaining: int = 0

    def counts(self) -> dict[str, int]:
        return {
            "persons": self.persons,
            "intake_rejections": self.intake_rejections,
            "parked_entries": self.parked_entries,
            "webhook_endpoints": self.webhook_endpoints,
        }


def rotate(database: Database, actor: audit.Actor, batch: int = BATCH) -> Rotated:
    """Seal again every row not under the current key; recorded in the audit trail."""
    keyring: sealing.Keyring = database.transaction(sealing.of)
    rotated = Rotated(keyring.current_id)
    rotated.persons = _until_done(database, keyring, batch, _stale_persons, _reseal_persons)
    rotated.intake_rejections = _until_done(
        database, keyring, batch, _stale_rejections, _reseal_rejections
    )
    rotated.parked_entries = _until_done(database, keyring, batch, _stale_parked, _reseal_parked)
    rotated.webhook_endpoints = _until_done(
        database, keyring, batch, _stale_webhook_secrets, _reseal_webhook_secrets
    )
    rotated.remaining = database.transaction(
        lambda conn: sum(
            len(stale(conn, keyring, batch))
            for stale in (_stale_persons, _stale_rejections, _stale_parked, _stale_webhook_secrets)
        )
    )
    detail: dict[str, Any] = {"key_id": rotated.key_id, **rotated.counts()}
    database.transaction(lambda conn: audit.record(conn, actor, ROTATED, detail=detail))
    return rotated


Stale = Callable[[Connection, sealing.Keyring, int], list[Any]]
Reseal = Callable[[Connection, sealing.Keyring, list[Any]], int]


def _until_done(
    database: Database, keyring: sealing.Keyring, batch: int, stale: Stale, reseal: Reseal
) -> int:
    """Batches, each in its own transaction, until one finds no row left to seal again."""

    def one_batch(conn: Connection) -> tuple[int, int]:
        rows = stale(conn, keyring, batch)
        return len(rows), reseal(conn, keyring, rows)

    total = 0
    while True:
        found, sealed = database.transaction(one_batch)
        total += sealed
        # No progress: every row found changed under us; `remaining` tells it.
        if found == 0 or sealed == 0:
            return total


def _not_current(column: sa.ColumnElement[Any], keyring: sealing.Keyring) -> Any:
    return sa.and_(
        column.is_not(None), sa.not_(column.startswith(keyring.current_id + ":", autoescape=True))
    )


def _stale_persons(conn: Connection, keyring: sealing.Keyring, batch: int) -> list[Any]:
    table = tables.persons
    columns = [table.c[name] for name in sealed_persons.SEALED]
    stale = sa.or_(*(_not_current(column, keyring) for column in columns))
    query = sa.select(table.c.referral_id, *columns).where(stale).limit(batch)
    return [dict(row._mapping) for row in conn.execute(query)]


def _reseal_persons(conn: Connection, keyring: sealing.Keyring, rows: list[Any]) -> int:
    table = tables.persons
    sealed = 0
    for values in rows:
        unchanged = [table.c[name] == values[name] for name in sealed_persons.SEALED]
        result = conn.execute(
            table.update()
            .where(table.c.referral_id == values["referral_id"], *unchanged)
            .values(sealed_persons.reseal(keyring, values))
        )
        sealed += result.rowcount
    return sealed


def _stale_rejections(conn: Connection, keyring: sealing.Keyring, batch: int) -> list[Any]:
    table = tables.intake_rejections
    query = (
        sa.select(table.c.entry_id, table.c.raw_entry)
        .where(_not_current(table.c.raw_entry, keyring))
        .limit(batch)
    )
    return list(conn.execute(query).tuples())


def _reseal_rejections(conn: Connection, keyring: sealing.Keyring, rows: list[Any]) -> int:
    table = tables.intake_rejections
    sealed = 0
    for entry_id, raw_entry in rows:
        where = sealing.rejection_place(entry_id)
        result = conn.execute(
            table.update()
            .where(table.c.entry_id == entry_id, table.c.raw_entry == raw_entry)
            .values(raw_entry=keyring.seal(keyring.open(raw_entry, where), where))
        )
        sealed += result.rowcount
    return sealed


def _stale_parked(conn: Connection, keyring: sealing.Keyring, batch: int) -> list[Any]:
    # Binary bodies: filtered here rather than with LIKE, which the two databases
    # treat differently on bytes. There are only ever a handful.
    table = tables.metadata.tables["parked_entries"]
    rows = [
        (token, bytes(body))
        for token, body in conn.execute(sa.select(table.c.token, table.c.body))
        if body is not None and not keyring.is_current(bytes(body))
    ]
    return rows[:batch]


def _reseal_parked(conn: Connection, keyring: sealing.Keyring, rows: list[Any]) -> int:
    table = tables.metadata.tables["parked_entries"]
    sealed = 0
    for token, body in rows:
        where = parking.place(token)
        result = conn.execute(
            table.update()
            .where(table.c.token == token, table.c.body == body)
            .values(body=keyring.seal_bytes(keyring.open_bytes(body, where), where))
        )
        sealed += result.rowcount
    return sealed


def _stale_webhook_secrets(conn: Connection, keyring: sealing.Keyring, batch: int) -> list[Any]:
    table = tables.webhook_endpoints
    stale = sa.or_(
        _not_current(table.c.secret, keyring), _not_current(table.c.previous_secret, keyring)
    )
    query = sa.select(table.c.id, table.c.secret, table.c.previous_secret).where(stale)
    return list(conn.execute(query.limit(batch)).tuples())


def _reseal_webhook_secrets(conn: Connection, keyring: sealing.Keyring, rows: list[Any]) -> int:
    table = tables.webhook_endpoints
    sealed = 0
    for endpoint_id, secret, previous in rows:
        result = conn.execute(
            table.update()
            .where(table.c.id == endpoint_id, table.c.secret == secret)
            .values(webhook_endpoints.resealed(keyring, endpoint_id, secret, previous))
        )
        sealed += result.rowcount
    return sealed
