"""The facility directory in SQL: locked reads, beds taken and freed, loads by name."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from korpu_contracts import regions
from shelter.adapters import tables
from shelter.domain import model

_table = tables.facilities
_c = _table.c
# Whole directory, in id order: replicas then always lock in the same order and
# never deadlock, even across the entries of one batch. The directory is tens of
# rows. On SQLite FOR UPDATE is not rendered; its single writer (BEGIN IMMEDIATE)
# serialises allocations anyway.
_LOCKED = sa.select(_table).order_by(_c.id).with_for_update()
_ALL = sa.select(_table).order_by(_c.id)
_BY_NAME = sa.select(_table).where(_c.name == sa.bindparam("b_name"))
# Occupancy moves by a bound amount, never below zero (capacity may drop below it).
_occupied = _c.occupied + sa.bindparam("b_beds", type_=sa.Integer)
_OCCUPY = (
    _table.update()
    .where(_c.id == sa.bindparam("b_id"))
    .values(occupied=sa.case((_occupied < 0, 0), else_=_occupied))
)


def directory(conn: Connection, *, lock: bool) -> dict[str, model.Facility]:
    return {row.id: _facility(row) for row in conn.execute(_LOCKED if lock else _ALL)}


def occupy(conn: Connection, facility_id: str, beds: int) -> None:
    """Change the facility's occupied count by `beds` (negative frees), never below zero."""
    conn.execute(_OCCUPY, {"b_id": facility_id, "b_beds": beds})


def take(conn: Connection, facility: model.Facility, request: model.BedRequest) -> dict[str, Any]:
    """One bed more used; nothing else to keep or tell."""
    occupy(conn, facility.id, 1)
    return {}


def release(conn: Connection, facility_id: str) -> None:
    occupy(conn, facility_id, -1)


def upsert(conn: Connection, name: str, entry: dict[str, Any]) -> bool:
    """Add the facility, or update the one with this name; True when added.

    `entry` holds the directory's columns (region, serves, beds, child_unit,
    accepts_pregnant, accessible). Occupancy is never loaded: it follows the tasks.
    """
    values = {**entry, "updated_at": _now()}
    row = conn.execute(_BY_NAME, {"b_name": name}).first()
    if row is None:
        conn.execute(_table.insert().values(id=str(uuid.uuid4()), name=name, occupied=0, **values))
    else:
        conn.execute(_table.update().where(_c.id == row.id).values(**values))
    return row is None


def view(conn: Connection) -> list[dict[str, Any]]:
    """The case workers' view of the directory, by name, with each facility's use."""
    facilities = sorted(directory(conn, lock=False).values(), key=lambda f: f.name)
    return [
        {
            "id": facility.id,
            "name": facility.name,
            "region": facility.region,
            "serves": sorted(facility.serves),
            "beds": facility.beds,
            "occupied": facility.occupied,
            "free": facility.free_beds,
            "child_unit": facility.child_unit,
            "accepts_pregnant": facility.accepts_pregnant,
            "accessible": facility.accessible,
        }
        for facility in facilities
    ]


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _facility(row: sa.Row[Any]) -> model.Facility:
    return model.Facility(
        id=row.id,
        name=row.name,
        # A name stored before regions were codes is read as its code.
        region=regions.code_or_as_sent(row.region),
        serves=frozenset(model.Category(value) for value in row.serves),
        beds=row.beds,
        occupied=row.occupied,
        child_unit=row.child_unit,
        accepts_pregnant=row.accepts_pregnant,
        accessible=row.accessible,
    )
