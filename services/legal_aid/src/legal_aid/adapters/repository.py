"""Reading and writing tasks with SQLAlchemy Core; the directory part comes from `lawyers`."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa

from korpu_contracts import referral
from korpu_contracts.vocabulary import Reason, TaskStatus
from korpu_runtime import revisions
from legal_aid.adapters import lawyers, tables
from legal_aid.adapters.lawyers import LawyerQueries, fold
from legal_aid.domain import model

TaskRow = sa.Row[Any]


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Repository(LawyerQueries):
    """Tasks and lawyers as one object: a task's change and its caseload's go together.

    Rejected: two repositories passed side by side to every handler.
    """

    def task(self, task_id: str) -> TaskRow | None:
        query = sa.select(tables.tasks).where(tables.tasks.c.task_id == task_id)
        return self.conn.execute(query).first()

    def add_task(self, requested: referral.TaskRequested) -> TaskRow:
        self._insert(requested.task_id, requested.referral_id, TaskStatus.REQUESTED, requested)
        # Read back for the `queued_seq` the database gave it.
        row = self.task(requested.task_id)
        assert row is not None
        return row

    def add_tombstone(self, task_id: str, referral_id: str, reason: Reason) -> None:
        self._insert(task_id, referral_id, TaskStatus.CANCELLED, None)
        self.save(task_id, reason=reason)

    def _insert(
        self,
        task_id: str,
        referral_id: str,
        status: TaskStatus,
        requested: referral.TaskRequested | None,
    ) -> None:
        at = now()
        attributes = _attributes(requested) if requested else {"languages": [], "is_child": False}
        self.conn.execute(
            tables.tasks.insert().values(
                task_id=task_id,
                referral_id=referral_id,
                status=status,
                received_at=at,
                updated_at=at,
                **attributes,
            )
        )

    def fill_tombstone(self, requested: referral.TaskRequested) -> None:
        """The request behind a tombstone arrived: keep it, so it is answered only once."""
        self.save(requested.task_id, **_attributes(requested))

    def save(self, task_id: str, **values: Any) -> None:
        self.conn.execute(
            tables.tasks.update()
            .where(tables.tasks.c.task_id == task_id)
            .values(**values, updated_at=now())
        )

    def next_revision(self, task_id: str) -> int:
        """The revision of the next answer about the task (korpu_runtime.revisions)."""
        return revisions.next_revision(self.conn, tables.tasks, task_id)

    def waiting_tasks(self) -> list[TaskRow]:
        query = sa.select(tables.tasks).where(tables.tasks.c.status == TaskStatus.ON_HOLD)
        return list(self.conn.execute(query))

    def waiting(self) -> list[model.CaseRequest]:
        return [case_request(row) for row in self.waiting_tasks()]


def _attributes(requested: referral.TaskRequested) -> dict[str, Any]:
    return {
        "region": requested.region,
        "languages": list(requested.languages),
        "is_child": requested.is_child,
    }


def case_request(row: TaskRow) -> model.CaseRequest:
    return model.CaseRequest(
        task_id=row.task_id,
        region=lawyers.region(row.region or ""),
        languages=fold(row.languages),
        is_child=row.is_child,
        queued_seq=row.queued_seq,
    )
