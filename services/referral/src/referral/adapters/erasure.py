"""Removing a referral's personal data from every table that holds some, and finding cases due.

What goes: the `persons` row (every field of the person, encrypted or blind-indexed
alike), the idempotency record of the submission, and the raw intake entries
that name the same organization and idempotency key (a rejected first attempt,
an entry parked as a dead letter). What stays is the case without the person:
the referral's coarse attributes (region, sex, child or adult), its tasks,
consents, flags and history, so agencies, providers and statistics still see
one consistent case.

The idempotency record goes whole. Its key is free text the agency chose, and
its body hash confirms a guessed body (name, birth date, story) to whoever can
read the table. Idempotency guards against a retry within minutes, not years;
a retry of the very same request after an erasure creates a new referral.
Rejected: keeping the row with the hash blanked (the key text would stay).
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from korpu_runtime import parking
from referral.adapters import sealing, tables


def remove_personal_data(conn: Connection, referral_id: str) -> None:
    keys = tables.idempotency_keys
    submissions = conn.execute(
        sa.select(keys.c.organization_id, keys.c.key).where(keys.c.referral_id == referral_id)
    ).all()
    for organization_id, key in submissions:
        _remove_raw_entries(conn, organization_id, key)
    conn.execute(keys.delete().where(keys.c.referral_id == referral_id))
    conn.execute(tables.persons.delete().where(tables.persons.c.referral_id == referral_id))


def _remove_raw_entries(conn: Connection, organization_id: str, key: str) -> None:
    rejections = tables.intake_rejections
    conn.execute(
        rejections.delete().where(
            rejections.c.organization_id == organization_id,
            rejections.c.idempotency_key == key,
        )
    )
    # Parked bodies are opaque bytes to the runtime: read each to know whose it is.
    # There are only ever a handful (entries that failed every delivery).
    parked = tables.metadata.tables["parked_entries"]
    keyring = sealing.of(conn)  # parked bodies are sealed (adapters/sealing.py)
    for token, body in conn.execute(sa.select(parked.c.token, parked.c.body)):
        try:
            opened = keyring.open_bytes(bytes(body), parking.place(token))
        except sealing.CannotOpen:
            continue  # not readable with our keys: it cannot be told whose it is
        if _submission_of(opened) == (organization_id, key):
            conn.execute(parked.delete().where(parked.c.token == token))


def _submission_of(body: bytes) -> tuple[Any, Any] | None:
    try:
        data = json.loads(body).get("data") or {}
    except (ValueError, AttributeError):
        return None
    return (data.get("organization_id"), data.get("idempotency_key"))


ERASED = "erased"  # the history step


def mark_erased(conn: Connection, referral_id: str, basis: str, at: dt.datetime) -> None:
    """The case says when its person was erased, and its history has the step."""
    conn.execute(
        tables.referrals.update().where(tables.referrals.c.id == referral_id).values(erased_at=at)
    )
    conn.execute(
        tables.history.insert().values(
            referral_id=referral_id, at=at, service=None, status=ERASED, reason=basis
        )
    )


def due(conn: Connection, closed_before: dt.datetime, limit: int) -> list[str]:
    """Referrals closed before `closed_before` whose person is not yet erased, oldest first."""
    referrals = tables.referrals
    query = (
        sa.select(referrals.c.id)
        .where(referrals.c.closed_at < closed_before, referrals.c.erased_at.is_(None))
        .order_by(referrals.c.closed_at)
        .limit(limit)
    )
    return list(conn.execute(query).scalars())


def checkpoint(engine: Engine) -> None:
    """On SQLite, move the write-ahead log into the file and empty it, after an erasure.

    `secure_delete` (korpu_runtime.database) zeroes what a delete frees, but the
    page as it was before stays in the `-wal` file until a checkpoint rewrites
    it. TRUNCATE waits for readers (busy timeout) and empties the log; if one
    still holds it, the older frames are overwritten as the log is reused. On
    the driver's own connection: SQLite runs no checkpoint inside a transaction,
    and SQLAlchemy would begin one.
    """
    if engine.dialect.name != "sqlite":
        return
    raw = engine.raw_connection()
    try:
        raw.cursor().execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
    finally:
        raw.close()
