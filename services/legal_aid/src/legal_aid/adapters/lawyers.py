"""The lawyer directory in SQL: locked reads, caseloads taken and freed, loads by name."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from korpu_contracts import regions
from legal_aid.adapters import tables
from legal_aid.domain import model

_table = tables.lawyers
_c = _table.c
# Every lawyer, in id order, so two replicas never lock in two orders and deadlock.
# Rejected: locking only the lawyers of one region, which needs a JSON query per
# dialect and lets a batch that touches two regions lock in two orders. On SQLite
# FOR UPDATE is left out; its single writer serialises anyway.
_LOCKED = sa.select(_table).order_by(_c.id).with_for_update()
_ALL = sa.select(_table).order_by(_c.id)
_BY_NAME = sa.select(_table).order_by(_c.name)
_ID_BY_NAME = sa.select(_c.id).where(_c.name == sa.bindparam("b_name"))
# The cap is checked again in SQL: a second guard should the lock ever be skipped.
_TAKE = (
    _table.update()
    .where(_c.id == sa.bindparam("b_id"), _c.caseload < _c.max_caseload)
    .values(caseload=_c.caseload + 1)
)
_RELEASE = (
    _table.update()
    .where(_c.id == sa.bindparam("b_id"), _c.caseload > 0)
    .values(caseload=_c.caseload - 1)
)


class OverAllocation(RuntimeError):
    """A lawyer at the cap was given a case: a bug, so the whole entry is undone."""


def directory(conn: Connection, *, lock: bool) -> dict[str, model.Lawyer]:
    return {row.id: _lawyer(row) for row in conn.execute(_LOCKED if lock else _ALL)}


def take(conn: Connection, lawyer_id: str) -> None:
    if conn.execute(_TAKE, {"b_id": lawyer_id}).rowcount != 1:
        raise OverAllocation(lawyer_id)


def release(conn: Connection, lawyer_id: str) -> None:
    conn.execute(_RELEASE, {"b_id": lawyer_id})


def upsert(
    conn: Connection, name: str, regions: Sequence[str], languages: Sequence[str], cap: int
) -> bool:
    """Add or update by name, keeping the caseload; True when added."""
    values = {"regions": list(regions), "languages": list(languages), "max_caseload": cap}
    found = conn.execute(_ID_BY_NAME, {"b_name": name}).scalar_one_or_none()
    if found is not None:
        conn.execute(_table.update().where(_c.id == found).values(**values))
        return False
    conn.execute(_table.insert().values(id=str(uuid.uuid4()), name=name, caseload=0, **values))
    return True


def view(conn: Connection) -> list[dict[str, Any]]:
    """The case workers' view of the directory, by name, as loaded, with each caseload."""
    return [
        {
            "id": row.id,
            "name": row.name,
            "regions": row.regions,
            "languages": row.languages,
            "max_caseload": row.max_caseload,
            "caseload": row.caseload,
            "free": max(row.max_caseload - row.caseload, 0),
        }
        for row in conn.execute(_BY_NAME)
    ]


# Languages are compared case-blind. Rejected: exact match, which would turn a
# capital letter into an out-of-service-area rejection.
def fold(values: Sequence[str]) -> frozenset[str]:
    return frozenset(value.casefold() for value in values)


def region(value: str) -> str:
    """A region as its code (korpu_contracts.regions), a name stored before codes included."""
    return regions.code_or_as_sent(value)


def _lawyer(row: sa.Row[Any]) -> model.Lawyer:
    return model.Lawyer(
        id=row.id,
        name=row.name,
        regions=frozenset(region(value) for value in row.regions),
        languages=fold(row.languages),
        max_caseload=row.max_caseload,
        caseload=row.caseload,
    )
