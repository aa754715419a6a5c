"""Reading and writing the lawyer directory and caseloads with SQLAlchemy Core."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from korpu_contracts import regions
from legal_aid.adapters import tables
from legal_aid.domain import model


class OverAllocation(RuntimeError):
    """A lawyer at the cap was given a case: a bug, so the whole entry is undone."""


class LawyerQueries:
    """The directory half of the repository (see `repository.Repository`)."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def lawyers(self, *, lock: bool = False) -> list[model.Lawyer]:
        """The directory; with `lock`, held until commit by this transaction alone.

        Every change to caseloads or task states takes this lock first, so replicas
        never over-allocate, and always in id order, so two of them never deadlock.
        Rejected: locking only the lawyers of one region, which needs a JSON query
        per dialect and lets a batch that touches two regions lock in two orders.
        On SQLite FOR UPDATE is left out; its single writer serialises anyway.
        """
        query = sa.select(tables.lawyers).order_by(tables.lawyers.c.id)
        if lock:
            query = query.with_for_update()
        return [_lawyer(row) for row in self.conn.execute(query)]

    def lawyer(self, lawyer_id: str) -> model.Lawyer:
        row = self.conn.execute(
            sa.select(tables.lawyers).where(tables.lawyers.c.id == lawyer_id)
        ).one()
        return _lawyer(row)

    def directory(self) -> list[sa.Row[Any]]:
        return list(self.conn.execute(sa.select(tables.lawyers).order_by(tables.lawyers.c.name)))

    def take(self, lawyer_id: str) -> None:
        lawyers = tables.lawyers
        # The cap is checked again in SQL: a second guard should the lock ever be skipped.
        result = self.conn.execute(
            lawyers.update()
            .where(lawyers.c.id == lawyer_id, lawyers.c.caseload < lawyers.c.max_caseload)
            .values(caseload=lawyers.c.caseload + 1)
        )
        if result.rowcount != 1:
            raise OverAllocation(lawyer_id)

    def release(self, lawyer_id: str) -> None:
        lawyers = tables.lawyers
        self.conn.execute(
            lawyers.update()
            .where(lawyers.c.id == lawyer_id, lawyers.c.caseload > 0)
            .values(caseload=lawyers.c.caseload - 1)
        )

    def upsert_lawyer(
        self, name: str, regions: Sequence[str], languages: Sequence[str], max_caseload: int
    ) -> bool:
        """Add or update by name, keeping the caseload; True when added."""
        lawyers = tables.lawyers
        values = {"regions": list(regions), "languages": list(languages)}
        found = self.conn.execute(sa.select(lawyers.c.id).where(lawyers.c.name == name)).first()
        if found is not None:
            self.conn.execute(
                lawyers.update()
                .where(lawyers.c.id == found.id)
                .values(**values, max_caseload=max_caseload)
            )
            return False
        self.conn.execute(
            lawyers.insert().values(
                id=str(uuid.uuid4()), name=name, **values, max_caseload=max_caseload, caseload=0
            )
        )
        return True


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
