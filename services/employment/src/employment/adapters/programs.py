"""The program directory in SQL: locked reads, seats taken and freed, loads by name."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from employment.adapters import tables
from employment.domain import model

_table = tables.programs
_c = _table.c
# Every program in one fixed order, so two transactions never lock in opposite
# orders and deadlock. Rejected: locking only the programs that admit the person,
# finer but leaving the waitlist, shared across programs, unguarded. SQLite
# ignores FOR UPDATE; its single writer (BEGIN IMMEDIATE) serialises anyway.
_LOCKED = sa.select(_table).order_by(_c.id).with_for_update()
_ALL = sa.select(_table).order_by(_c.id)
_ID_BY_NAME = sa.select(_c.id).where(_c.name == sa.bindparam("b_name"))
_ENROL = (
    _table.update()
    .where(_c.id == sa.bindparam("b_id"))
    .values(enrolled=_c.enrolled + sa.bindparam("b_delta", type_=sa.Integer))
)


def directory(conn: Connection, *, lock: bool) -> dict[str, model.Program]:
    return {row.id: _program(row) for row in conn.execute(_LOCKED if lock else _ALL)}


def enrol(conn: Connection, program_id: str, delta: int) -> None:
    conn.execute(_ENROL, {"b_id": program_id, "b_delta": delta})


def take(conn: Connection, program: model.Program, request: model.SeatRequest) -> dict[str, Any]:
    """One seat more used; nothing else to keep or tell."""
    enrol(conn, program.id, +1)
    return {}


def release(conn: Connection, program_id: str) -> None:
    enrol(conn, program_id, -1)


def upsert(conn: Connection, values: dict[str, Any]) -> bool:
    """Add the program, or update the one with its name, keeping who is enrolled."""
    found = conn.execute(_ID_BY_NAME, {"b_name": values["name"]}).scalar_one_or_none()
    if found is None:
        conn.execute(_table.insert().values(id=str(uuid.uuid4()), enrolled=0, **values))
    else:
        conn.execute(_table.update().where(_c.id == found).values(**values))
    return found is None


def view(conn: Connection, waiting: Iterable[model.SeatRequest]) -> list[dict[str, Any]]:
    """The case workers' view of the directory, by name, with each program's use."""
    people = list(waiting)
    return [
        {
            "id": program.id,
            "name": program.name,
            "region": program.region,
            "seats": program.seats,
            "enrolled": program.enrolled,
            "free_seats": program.free_seats,
            "languages": sorted(program.languages),
            "min_age": program.min_age,
            # People waiting whom this program could take: where more seats would help.
            "waiting": sum(1 for request in people if model.admits(program, request)),
        }
        for program in sorted(directory(conn, lock=False).values(), key=lambda p: p.name)
    ]


def _program(row: sa.Row[Any]) -> model.Program:
    # The table's columns are the program's fields.
    return model.Program(**{**row._mapping, "languages": frozenset(row.languages)})
