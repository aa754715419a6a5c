"""The version of the name folding every stored blind index was computed with, and re-indexing.

Each `persons.match_key` is the blind index of a name folded as its version of
domain/matching.py folded it. When the folding changes (`matching.INDEX_VERSION`),
every stored index is computed again from the sealed name and birth date
(entrypoints/match_reindex.py), and the version is recorded as done.
"""

from __future__ import annotations

import datetime as dt
import json

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from referral.adapters import sealed_persons, sealing, tables
from referral.domain import matching


def index_is_current(conn: Connection) -> bool:
    versions = tables.match_index_versions
    found = conn.execute(
        sa.select(versions.c.version).where(versions.c.version == matching.INDEX_VERSION)
    ).first()
    return found is not None


def reindex_batch(conn: Connection, after: str, batch: int) -> tuple[str | None, int]:
    """Compute again the blind index of up to `batch` persons after id `after`.

    Returns the last id looked at (None when there were no more) and how many
    indexes changed. Only a row still as read is written: an erasure meanwhile wins.
    """
    persons = tables.persons
    keyring = sealing.of(conn)
    sealed = ("given_name", "family_name", "date_of_birth")
    rows = conn.execute(
        sa.select(persons.c.referral_id, persons.c.match_key, *(persons.c[n] for n in sealed))
        .where(persons.c.referral_id > after)
        .order_by(persons.c.referral_id)
        .limit(batch)
    ).all()
    changed = 0
    for row in rows:
        try:
            opened = {
                name: keyring.open(row._mapping[name], sealed_persons.place(row.referral_id, name))
                for name in sealed
                if row._mapping[name] is not None
            }
        except sealing.CannotOpen:
            # Under a key no longer configured, or altered: no one can match it
            # anyway, and `korpu keys rotate` names it. Left as it is.
            continue
        born = opened.get("date_of_birth")
        key = sealed_persons.match_key(
            keyring,
            _text(opened["given_name"]),
            _text(opened["family_name"]),
            None if born is None else dt.date.fromisoformat(_text(born)),
        )
        if key == row.match_key:
            continue
        changed += conn.execute(
            persons.update()
            .where(
                persons.c.referral_id == row.referral_id,
                persons.c.match_key.is_not_distinct_from(row.match_key),
            )
            .values(match_key=key)
        ).rowcount
    return (rows[-1].referral_id if rows else None), changed


def mark_index_current(conn: Connection, reindexed: int) -> None:
    """Record that every stored index is of this version; a second replica's record is kept."""
    insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
    conn.execute(
        insert(tables.match_index_versions)
        .values(
            version=matching.INDEX_VERSION,
            completed_at=dt.datetime.now(dt.UTC),
            reindexed=reindexed,
        )
        .on_conflict_do_nothing()
    )


def _text(sealed_json: str) -> str:
    value = json.loads(sealed_json)
    assert isinstance(value, str)
    return value
