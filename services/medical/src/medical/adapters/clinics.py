"""The clinic directory in SQL: locked reads with the open days' bookings, days booked and freed."""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from korpu_contracts import regions
from korpu_provider import categories
from medical.adapters import tables
from medical.domain import model

_table = tables.clinics
_c = _table.c
_b = tables.bookings.c
# Every clinic, in id order, so two replicas never lock in two orders and deadlock; the
# bookings are written only under this lock, so they are read without one. On SQLite
# FOR UPDATE is left out; its single writer serialises anyway.
_LOCKED = sa.select(_table).order_by(_c.id).with_for_update()
_ALL = sa.select(_table).order_by(_c.id)
_ID_BY_NAME = sa.select(_c.id).where(_c.name == sa.bindparam("b_name"))
# Only days not yet past: the rows of past days are kept, as what was booked then.
_BOOKED_FROM = sa.select(tables.bookings).where(_b.day >= sa.bindparam("b_from", type_=sa.Date))
_cap = sa.select(_c.appointments_per_day).where(_c.id == _b.clinic_id).scalar_subquery()
# Typed, so that SQLite stores the day as the Date column's text (a cast to DATE there
# keeps only the year).
_day = sa.bindparam("b_day", type_=sa.Date)
_of_day = sa.and_(_b.clinic_id == sa.bindparam("b_id"), _b.day == _day)
# The cap is checked again in SQL: a second guard should the lock ever be skipped.
_BOOK = tables.bookings.update().where(_of_day, _b.booked < _cap).values(booked=_b.booked + 1)
# A day's first booking: a row with one, when the clinic gives any appointment at all.
# RETURNING tells whether a row went in: psycopg counts no rows for INSERT ... SELECT.
# Rejected: one INSERT ... ON CONFLICT DO UPDATE, which each dialect spells its own way.
_FIRST = (
    tables.bookings.insert()
    .from_select(
        ["clinic_id", "day", "booked"],
        sa.select(_c.id, _day, sa.literal(1)).where(
            _c.id == sa.bindparam("b_id"),
            _c.appointments_per_day > 0,
            ~sa.exists().where(_of_day),
        ),
    )
    .returning(_b.clinic_id)
)
_FREE = tables.bookings.update().where(_of_day, _b.booked > 0).values(booked=_b.booked - 1)


class OverBooking(RuntimeError):
    """A clinic's full day was booked again: a bug, so the whole entry is undone."""


def directory(conn: Connection, *, lock: bool, today: dt.date) -> dict[str, model.Clinic]:
    """Every clinic by id, with its bookings on the days it may book from `today`."""
    rows = list(conn.execute(_LOCKED if lock else _ALL))
    booked: dict[str, dict[dt.date, int]] = defaultdict(dict)
    for row in conn.execute(_BOOKED_FROM, {"b_from": today}):
        booked[row.clinic_id][row.day] = row.booked
    return {row.id: _clinic(row, today, booked[row.id]) for row in rows}


def book(conn: Connection, clinic_id: str, day: dt.date) -> None:
    """One appointment more on the clinic's day; OverBooking if the day is full."""
    values = {"b_id": clinic_id, "b_day": day}
    if conn.execute(_BOOK, values).rowcount == 1:
        return
    if conn.execute(_FIRST, values).first() is None:
        raise OverBooking(f"{clinic_id} on {day}")


def free(conn: Connection, clinic_id: str, day: dt.date) -> None:
    """One appointment of the clinic's day free again."""
    conn.execute(_FREE, {"b_id": clinic_id, "b_day": day})


def upsert(conn: Connection, name: str, values: dict[str, Any]) -> bool:
    """Add or update by name, keeping the bookings; True when added."""
    found = conn.execute(_ID_BY_NAME, {"b_name": name}).scalar_one_or_none()
    if found is not None:
        conn.execute(_table.update().where(_c.id == found).values(**values))
        return False
    conn.execute(_table.insert().values(id=str(uuid.uuid4()), name=name, **values))
    return True


def view(conn: Connection, today: dt.date) -> list[dict[str, Any]]:
    """The case workers' view of the directory, by name, with each clinic's open days' use."""
    clinics = sorted(directory(conn, lock=False, today=today).values(), key=lambda c: c.name)
    return [
        {
            "id": clinic.id,
            "name": clinic.name,
            "region": clinic.region,
            "serves": sorted(clinic.serves),
            "appointments_per_day": clinic.appointments_per_day,
            "booking_days": len(clinic.days),
            "free": clinic.free,
            "next_free_day": None if clinic.free_day is None else clinic.free_day.isoformat(),
        }
        for clinic in clinics
    ]


def _clinic(row: sa.Row[Any], today: dt.date, booked: dict[dt.date, int]) -> model.Clinic:
    return model.Clinic(
        id=row.id,
        name=row.name,
        region=regions.code_or_as_sent(row.region),
        serves=frozenset(categories.Category(value) for value in row.serves),
        appointments_per_day=row.appointments_per_day,
        days=model.open_days(today, row.booking_days),
        booked=booked,
    )
