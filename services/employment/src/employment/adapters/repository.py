"""Reading and writing programs and tasks with SQLAlchemy Core."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from employment.adapters import tables
from employment.domain import model
from korpu_contracts import regions
from korpu_contracts.vocabulary import Reason, TaskStatus
from korpu_runtime import revisions


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass(frozen=True)
class Task:
    """A task as stored; `request` is what the domain decides on."""

    task_id: str
    referral_id: str
    requested: bool
    status: TaskStatus
    program_id: str | None
    reason: Reason | None
    request: model.SeatRequest
    announced_position: int | None


class Repository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def lock_directory(self) -> dict[str, model.Program]:
        """Every program, locked until commit on PostgreSQL, in id order.

        Every change to seats or to the waitlist takes this lock first, so replicas
        decide one at a time and never over-allocate. All rows in one fixed order
        means two transactions can never lock in opposite orders and deadlock.
        Rejected: locking only the programs that admit the person, which is finer
        but leaves the waitlist, shared across programs, unguarded. SQLite ignores
        FOR UPDATE; its single writer (BEGIN IMMEDIATE) serialises anyway.
        """
        query = sa.select(tables.programs).order_by(tables.programs.c.id).with_for_update()
        return {row.id: _program(row) for row in self.conn.execute(query)}

    def programs(self) -> list[model.Program]:
        query = sa.select(tables.programs).order_by(tables.programs.c.name)
        return [_program(row) for row in self.conn.execute(query)]

    def program(self, program_id: str) -> model.Program:
        query = sa.select(tables.programs).where(tables.programs.c.id == program_id)
        return _program(self.conn.execute(query).one())

    def program_id_by_name(self, name: str) -> str | None:
        query = sa.select(tables.programs.c.id).where(tables.programs.c.name == name)
        found: str | None = self.conn.execute(query).scalar_one_or_none()
        return found

    def add_program(self, values: dict[str, Any]) -> str:
        program_id = str(uuid.uuid4())
        self.conn.execute(tables.programs.insert().values(id=program_id, enrolled=0, **values))
        return program_id

    def update_program(self, program_id: str, values: dict[str, Any]) -> None:
        programs = tables.programs
        self.conn.execute(programs.update().where(programs.c.id == program_id).values(**values))

    def add_to_enrolled(self, program_id: str, delta: int) -> None:
        programs = tables.programs
        self.conn.execute(
            programs.update()
            .where(programs.c.id == program_id)
            .values(enrolled=programs.c.enrolled + delta)
        )

    def task(self, task_id: str) -> Task | None:
        query = sa.select(tables.tasks).where(tables.tasks.c.task_id == task_id)
        row = self.conn.execute(query).first()
        return None if row is None else _task(row)

    def add_task(self, task_id: str, referral_id: str, **attributes: Any) -> Task:
        """Insert a task as `requested` (or as given); returns it with its queue position."""
        at = now()
        values = {"status": TaskStatus.REQUESTED.value, "requested": True, **attributes}
        self.conn.execute(
            tables.tasks.insert().values(
                task_id=task_id, referral_id=referral_id, received_at=at, updated_at=at, **values
            )
        )
        task = self.task(task_id)
        assert task is not None
        return task

    def update_task(self, task_id: str, **values: Any) -> None:
        tasks = tables.tasks
        self.conn.execute(
            tasks.update().where(tasks.c.task_id == task_id).values(updated_at=now(), **values)
        )

    def next_revision(self, task_id: str) -> int:
        """The revision of the next answer about the task (korpu_runtime.revisions)."""
        return revisions.next_revision(self.conn, tables.tasks, task_id)

    def waiting_tasks(self) -> list[Task]:
        """Everyone on the waitlist, in arrival order."""
        tasks = tables.tasks
        query = (
            sa.select(tasks)
            .where(tasks.c.status == TaskStatus.ON_HOLD.value)
            .order_by(tasks.c.queued_seq)
        )
        return [_task(row) for row in self.conn.execute(query)]

    def waiting(self) -> list[model.SeatRequest]:
        return [task.request for task in self.waiting_tasks()]


def _program(row: sa.Row[Any]) -> model.Program:
    return model.Program(
        id=row.id,
        name=row.name,
        # A name stored before regions were codes is read as its code.
        region=regions.code_or_as_sent(row.region),
        seats=row.seats,
        enrolled=row.enrolled,
        languages=frozenset(row.languages),
        min_age=row.min_age,
    )


def _task(row: sa.Row[Any]) -> Task:
    request = model.SeatRequest(
        task_id=row.task_id,
        region=regions.code_or_as_sent(row.region or ""),
        age_years=row.age_years,
        is_child=row.is_child,
        languages=frozenset(row.languages),
        queued_seq=row.queued_seq,
    )
    return Task(
        task_id=row.task_id,
        referral_id=row.referral_id,
        requested=row.requested,
        status=TaskStatus(row.status),
        program_id=row.program_id,
        reason=Reason(row.reason) if row.reason else None,
        request=request,
        announced_position=row.announced_position,
    )
