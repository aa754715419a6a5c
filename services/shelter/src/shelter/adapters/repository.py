"""Reading and writing the directory and the tasks with SQLAlchemy Core."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from korpu_contracts import referral, regions
from korpu_contracts.vocabulary import Reason, TaskStatus
from korpu_runtime import revisions
from shelter.adapters import tables
from shelter.domain import model


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class ShelterRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def lock_directory(self) -> dict[str, model.Facility]:
        """Every facility, locked until commit; call it before reading or changing beds.

        The whole directory, in id order, rather than only the facilities one
        request could use: replicas then always lock in the same order and never
        deadlock, even across the several entries of one batch transaction. The
        directory is tens of rows. On SQLite FOR UPDATE is not rendered; its
        single writer (BEGIN IMMEDIATE) serialises allocations anyway.
        """
        query = sa.select(tables.facilities).order_by(tables.facilities.c.id).with_for_update()
        return {row.id: _facility(row) for row in self.conn.execute(query)}

    def facilities(self) -> list[model.Facility]:
        query = sa.select(tables.facilities).order_by(tables.facilities.c.name)
        return [_facility(row) for row in self.conn.execute(query)]

    def upsert_facility(self, name: str, entry: dict[str, Any]) -> tuple[model.Facility, bool]:
        """Add the facility, or update the one with this name; True when added.

        `entry` holds the directory's columns (region, serves, beds, child_unit,
        accepts_pregnant, accessible). Occupancy is never loaded: it follows the
        tasks. Capacity may drop below it (a closed room), which the domain reads
        as no free bed.
        """
        table = tables.facilities
        values = {**entry, "updated_at": now()}
        row = self.conn.execute(sa.select(table.c.id).where(table.c.name == name)).first()
        if row is None:
            values |= {"id": str(uuid.uuid4()), "name": name, "occupied": 0}
            self.conn.execute(table.insert().values(**values))
        else:
            self.conn.execute(table.update().where(table.c.id == row.id).values(**values))
        saved = self.conn.execute(sa.select(table).where(table.c.name == name)).one()
        return _facility(saved), row is None

    def occupy(self, facility_id: str, beds: int) -> None:
        """Change the facility's occupied count by `beds` (negative frees), never below zero."""
        column = tables.facilities.c.occupied
        self.conn.execute(
            tables.facilities.update()
            .where(tables.facilities.c.id == facility_id)
            .values(occupied=_clamped(column + beds))
        )

    def task(self, task_id: str) -> sa.Row[Any] | None:
        query = sa.select(tables.tasks).where(tables.tasks.c.task_id == task_id)
        return self.conn.execute(query).first()

    def add_task(self, requested: referral.TaskRequested) -> model.BedRequest:
        """Record a request as it arrives, in arrival order, not yet decided."""
        attributes = _attributes(requested)
        queued_seq = self._insert(
            requested.task_id, requested.referral_id, TaskStatus.REQUESTED, **attributes
        )
        return model.BedRequest(task_id=requested.task_id, queued_seq=queued_seq, **attributes)

    def add_tombstone(self, cancelled: referral.TaskCancelled) -> None:
        self._insert(
            cancelled.task_id,
            cancelled.referral_id,
            TaskStatus.CANCELLED,
            reason=cancelled.reason,
            awaiting_request=True,
        )

    def fill_tombstone(self, requested: referral.TaskRequested) -> None:
        """The overtaken request arrived: keep its attributes, leave the task cancelled."""
        self.conn.execute(
            tables.tasks.update()
            .where(tables.tasks.c.task_id == requested.task_id)
            .values(awaiting_request=False, updated_at=now(), **_attributes(requested))
        )

    def _insert(self, task_id: str, referral_id: str, status: TaskStatus, **values: Any) -> int:
        at = now()
        values = {"awaiting_request": False, **values, "received_at": at, "updated_at": at}
        result = self.conn.execute(
            tables.tasks.insert().values(
                task_id=task_id, referral_id=referral_id, status=status, **values
            )
        )
        return int(result.inserted_primary_key[0])  # type: ignore[index]

    def set_status(
        self,
        task_id: str,
        status: TaskStatus,
        reason: Reason | None = None,
        facility_id: str | None = None,
    ) -> None:
        values: dict[str, Any] = {"status": status, "reason": reason, "updated_at": now()}
        if facility_id is not None:
            values["facility_id"] = facility_id
        self.conn.execute(
            tables.tasks.update().where(tables.tasks.c.task_id == task_id).values(**values)
        )

    def next_revision(self, task_id: str) -> int:
        """The revision of the next answer about the task (korpu_runtime.revisions)."""
        return revisions.next_revision(self.conn, tables.tasks, task_id)

    def set_announced(self, task_id: str, position: int) -> None:
        self.conn.execute(
            tables.tasks.update()
            .where(tables.tasks.c.task_id == task_id)
            .values(announced_position=position)
        )

    def waiting_tasks(self) -> list[sa.Row[Any]]:
        """Everyone on the waitlist as stored, in arrival order."""
        query = (
            sa.select(tables.tasks)
            .where(tables.tasks.c.status == TaskStatus.ON_HOLD)
            .order_by(tables.tasks.c.queued_seq)
        )
        return list(self.conn.execute(query))

    def waiting(self) -> list[model.BedRequest]:
        return [bed_request(row) for row in self.waiting_tasks()]


def _clamped(value: sa.ColumnElement[int]) -> sa.ColumnElement[int]:
    return sa.case((value < 0, 0), else_=value)


def _attributes(requested: referral.TaskRequested) -> dict[str, Any]:
    return {
        "region": requested.region,
        "is_child": requested.is_child,
        "sex": str(requested.sex),
        "accompanying_children": requested.accompanying_children,
        "pregnant": requested.pregnant,
        "disability": requested.disability,
    }


def bed_request(row: sa.Row[Any]) -> model.BedRequest:
    return model.BedRequest(
        task_id=row.task_id,
        # A name stored before regions were codes is read as its code.
        region=regions.code_or_as_sent(row.region),
        is_child=row.is_child,
        sex=row.sex,
        accompanying_children=row.accompanying_children,
        queued_seq=row.queued_seq,
        # NULL in a row stored before they were kept: not said, as the contract's default.
        pregnant=bool(row.pregnant),
        disability=bool(row.disability),
    )


def _facility(row: sa.Row[Any]) -> model.Facility:
    return model.Facility(
        id=row.id,
        name=row.name,
        region=regions.code_or_as_sent(row.region),
        serves=frozenset(model.Category(value) for value in row.serves),
        beds=row.beds,
        occupied=row.occupied,
        child_unit=row.child_unit,
        accepts_pregnant=row.accepts_pregnant,
        accessible=row.accessible,
    )
