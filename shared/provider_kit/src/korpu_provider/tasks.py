"""The tasks table every provider keeps, its statements built once, and the one tombstone rule.

A task row holds coarse attributes only (region and what the provider's rules
need), never who the person is.

The tombstone rule: a cancellation that arrives before its request leaves a row
with no region (a `TaskRequested` always has one), status `cancelled`, and the
cancellation's reason. While its region is empty the row is no task yet: not
shown, not completed, not counted. When the request comes, its attributes are
written into the row and it is answered `cancelled`, never allocated. Rejected:
a marker column per provider, which the three first schemas spelt three ways
(`awaiting_request`, `requested`, a NULL region); those columns are kept, and
still written, so that a schema stays as it was.

Every answer about a task is also kept in `task_history` (status, reason, what it
said was given, when), in the transaction of the change it reports: the case
workers' view of a task shows it. Rejected: reading the history back from the
outbox, whose rows are sent and then pruned.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from korpu_contracts.vocabulary import TaskStatus

Row = sa.Row[Any]

HISTORY = "task_history"

# A task holding its place: given one (accepted) or being helped there (in-progress).
HOLDING = frozenset({TaskStatus.ACCEPTED, TaskStatus.IN_PROGRESS})

_TASK_ID = "b_task_id"  # a bind name no column has, so every other key of an update is SET


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def table(metadata: sa.MetaData, *columns: sa.Column[Any]) -> sa.Table:
    """The `tasks` table: the columns every provider has, then the provider's own; and
    beside it the history of its answers (`history`)."""
    history(metadata)
    return sa.Table(
        "tasks",
        metadata,
        # Arrival order for the waitlist. The primary key because SQLite only
        # autoincrements an INTEGER PRIMARY KEY; rejected: a max()+1 counter, which
        # two PostgreSQL replicas could both compute, and a timestamp, which two
        # hosts' clocks can order wrongly.
        sa.Column("queued_seq", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("task_id", sa.String(64), nullable=False, unique=True),
        sa.Column("referral_id", sa.String(64), nullable=False),
        # NULL for a tombstone (the module's docstring).
        sa.Column("region", sa.String(60), nullable=True),
        # accepted | on-hold | rejected | cancelled | completed
        sa.Column("status", sa.String(20), nullable=False, index=True),
        sa.Column("reason", sa.String(30), nullable=True),
        # The waitlist position last sent while on hold: when the line moves, only
        # the people whose place changed are told again (`handlers.announce`).
        sa.Column("announced_position", sa.Integer, nullable=True),
        # How many answers were sent about this task: the last one's `revision`, so the
        # referral service can tell an old answer delivered late from a new one.
        sa.Column("revision", sa.Integer, nullable=False, default=0),
        *columns,
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        # What changed since (`GET /v1/tasks?updated_after=`), read in this order.
        sa.Index("ix_tasks_updated_at_task_id", "updated_at", "task_id"),
    )


def history(metadata: sa.MetaData) -> sa.Table:
    """Each answer about a task, by its revision: what the case workers' view lists."""
    return sa.Table(
        HISTORY,
        metadata,
        sa.Column("task_id", sa.String(64), primary_key=True),
        sa.Column("revision", sa.Integer, primary_key=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("reason", sa.String(30), nullable=True),
        # The answer's detail: what was given, a waitlist position, an outcome; no one's data.
        sa.Column("detail", sa.JSON, nullable=False),
    )


def utc(at: dt.datetime) -> dt.datetime:
    """A stored time as UTC: SQLite gives back the UTC wall clock it was written with."""
    return at.replace(tzinfo=dt.UTC) if at.tzinfo is None else at.astimezone(dt.UTC)


def is_tombstone(row: Row) -> bool:
    return row.region is None


class Tasks:
    """Reading and writing one provider's tasks; every statement is built here, once.

    `holds` names the column of the directory entry an accepted task holds
    (facility, program, lawyer). `tombstone` is what else a tombstone row is
    written with (its provider's NOT NULL columns and old marker).
    """

    def __init__(
        self, tasks: sa.Table, *, holds: str, tombstone: Mapping[str, Any] | None = None
    ) -> None:
        self.table = tasks
        self.holds = holds
        self.keeps_outcome = "outcome" in tasks.c
        self._tombstone = dict(tombstone or {})
        c = tasks.c
        self._one = sa.select(tasks).where(c.task_id == sa.bindparam(_TASK_ID))
        self._waiting = (
            sa.select(tasks).where(c.status == TaskStatus.ON_HOLD.value).order_by(c.queued_seq)
        )
        self._waiting_by_region = (
            sa.select(c.region, sa.func.count())
            .where(c.status == TaskStatus.ON_HOLD.value)
            .group_by(c.region)
        )
        self.history = tasks.metadata.tables[HISTORY]
        h = self.history
        self._record = h.insert()
        self._history = (
            sa.select(h).where(h.c.task_id == sa.bindparam(_TASK_ID)).order_by(h.c.revision)
        )
        self._insert = tasks.insert()
        self._update = tasks.update().where(c.task_id == sa.bindparam(_TASK_ID))
        # korpu_runtime's revision rule, with its statement built once.
        self._revision = (
            tasks.update()
            .where(c.task_id == sa.bindparam(_TASK_ID))
            .values(revision=c.revision + 1)
            .returning(c.revision)
        )

    def get(self, conn: Connection, task_id: str) -> Row | None:
        """The row, tombstone or not."""
        return conn.execute(self._one, {_TASK_ID: task_id}).first()

    def task(self, conn: Connection, task_id: str) -> Row | None:
        """The task, or None when there is none yet (a tombstone alone is not a task)."""
        row = self.get(conn, task_id)
        return None if row is None or is_tombstone(row) else row

    def add(
        self, conn: Connection, task_id: str, referral_id: str, values: Mapping[str, Any]
    ) -> Row:
        """A task as its request arrived, `requested`, not yet decided; read back for its place."""
        self._add(conn, task_id, referral_id, {"status": TaskStatus.REQUESTED.value, **values})
        row = self.get(conn, task_id)
        assert row is not None
        return row

    def add_tombstone(self, conn: Connection, task_id: str, referral_id: str, reason: str) -> None:
        values = {**self._tombstone, "status": TaskStatus.CANCELLED.value, "reason": reason}
        self._add(conn, task_id, referral_id, values)

    def _add(
        self, conn: Connection, task_id: str, referral_id: str, values: Mapping[str, Any]
    ) -> None:
        at = now()
        row = {**values, "task_id": task_id, "referral_id": referral_id}
        conn.execute(self._insert, {**row, "received_at": at, "updated_at": at})

    def update(self, conn: Connection, task_id: str, **values: Any) -> None:
        conn.execute(self._update, {**values, "updated_at": now(), _TASK_ID: task_id})

    def waiting(self, conn: Connection) -> list[Row]:
        """Everyone on the waitlist as stored, in arrival order."""
        return list(conn.execute(self._waiting))

    def waiting_by_region(self, conn: Connection) -> dict[str, int]:
        """How many wait, by the region each asked for (counts only, for the metrics)."""
        return {str(region): int(count) for region, count in conn.execute(self._waiting_by_region)}

    def next_revision(self, conn: Connection, task_id: str) -> int:
        """Count one more answer about the task; returns its `TaskUpdated.revision`.

        Called in the transaction whose change the answer reports: the UPDATE holds
        the row until commit, so the numbers follow the order of the changes even
        across replicas. Rejected: a counter in memory, which a restart or a second
        replica would start again from 1.
        """
        return int(conn.execute(self._revision, {_TASK_ID: task_id}).scalar_one())

    def record(
        self,
        conn: Connection,
        task_id: str,
        revision: int,
        status: TaskStatus,
        reason: str | None,
        detail: Mapping[str, Any],
    ) -> None:
        """Keep one answer in the task's history, in the transaction of its change."""
        values = {"status": str(status), "reason": reason, "detail": dict(detail)}
        conn.execute(
            self._record, {"task_id": task_id, "revision": revision, "at": now(), **values}
        )

    def history_of(self, conn: Connection, task_id: str) -> list[Row]:
        """Every answer kept about the task, oldest first (none before histories were kept)."""
        return list(conn.execute(self._history, {_TASK_ID: task_id}))

    def changed(
        self,
        conn: Connection,
        *,
        after: tuple[dt.datetime, str] | None,
        since: dt.datetime | None,
        status: TaskStatus | None,
        limit: int,
    ) -> list[Row]:
        """Tasks in (updated_at, task_id) order after `after` (a page's last row) and changed
        after `since`, at most `limit`; tombstones are no tasks and never listed.

        Both keys, so that rows written in one instant are neither skipped nor repeated
        between pages. Rejected: paging by offset, which skips a row whenever an earlier
        one changes and moves to the end.
        """
        c = self.table.c
        query = sa.select(self.table).where(c.region.is_not(None))
        if status is not None:
            query = query.where(c.status == str(status))
        if since is not None:
            query = query.where(c.updated_at > utc(since))
        if after is not None:
            at, task_id = utc(after[0]), after[1]
            later = sa.or_(c.updated_at > at, sa.and_(c.updated_at == at, c.task_id > task_id))
            query = query.where(later)
        ordered = query.order_by(c.updated_at, c.task_id).limit(limit)
        return list(conn.execute(ordered))
