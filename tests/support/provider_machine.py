"""What every provider's stateful test shares: a database per example, the referral
service's events sent to the real handlers, and the tasks and answers read back."""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any, ClassVar

import sqlalchemy as sa
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine

from korpu_contracts import referral
from korpu_contracts.envelope import Envelope
from korpu_contracts.vocabulary import Service, TaskStatus
from korpu_runtime.database import Database
from korpu_runtime.unit_of_work import UnitOfWork

Handler = Callable[[UnitOfWork, Envelope], object]

# Enough steps for places to run out, free up and be cut; all three providers
# together run in well under half a minute here.
SETTINGS = settings(
    max_examples=50,
    stateful_step_count=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


@dataclass(frozen=True)
class Provider:
    """The parts of a provider its stateful test drives."""

    service: Service
    tables: ModuleType  # the provider's `adapters.tables`
    request: Handler
    cancel: Handler


class ProviderMachine(RuleBasedStateMachine):
    """A provider on a SQLite file of its own; subclasses add the rules and the promises."""

    provider: ClassVar[Provider]

    def __init__(self) -> None:
        super().__init__()
        self.folder = Path(tempfile.mkdtemp(prefix=f"{self.provider.service}-stateful-"))
        self.db = Database(f"sqlite:///{self.folder / 'provider.db'}")
        self.db.create_schema(self.provider.tables.metadata)
        self.entries: list[dict[str, Any]] = []
        self.requested: list[str] = []
        self.ahead: list[str] = []  # cancelled before their request arrived
        self.count = 0

    def teardown(self) -> None:
        self.db.close()
        shutil.rmtree(self.folder, ignore_errors=True)

    def pick(self, data: st.DataObject, *statuses: TaskStatus) -> str:
        """Mostly a task in one of `statuses`, where something happens; sometimes any task."""
        tasks = self.provider.tables.tasks
        query = sa.select(tasks.c.task_id).where(tasks.c.status.in_(statuses))
        found = self.db.transaction(lambda conn: list(conn.execute(query).scalars()))
        likely = [task_id for task_id in self.requested if task_id in found]
        if likely and data.draw(st.integers(min_value=0, max_value=3)):
            return data.draw(st.sampled_from(likely))
        return data.draw(st.sampled_from(self.requested))

    def new_task(self) -> str:
        self.count += 1
        return f"task-{self.count}"

    def requested_event(self, task_id: str, person: dict[str, Any]) -> referral.TaskRequested:
        return referral.TaskRequested(
            task_id=task_id,
            referral_id=f"referral-{task_id}",
            service=self.provider.service,
            **person,
        )

    def cancelled_event(self, task_id: str) -> referral.TaskCancelled:
        return referral.TaskCancelled(
            task_id=task_id, referral_id=f"referral-{task_id}", service=self.provider.service
        )

    def send(self, payload: referral.TaskRequested | referral.TaskCancelled) -> None:
        """Handled as the provider's consumer would, in one transaction with its inbox."""
        envelope = Envelope.wrap(payload, source="tests", subject=payload.referral_id)
        requested = isinstance(payload, referral.TaskRequested)
        handler = self.provider.request if requested else self.provider.cancel
        self.db.transaction(lambda conn: handler(self.uow(conn), envelope))

    def uow(self, conn: sa.Connection) -> UnitOfWork:
        return UnitOfWork(conn, self.provider.tables.outbox, self.provider.tables.inbox)

    def status(self, task_id: str) -> str:
        tasks = self.provider.tables.tasks
        query = sa.select(tasks.c.status).where(tasks.c.task_id == task_id)
        found: str = self.db.transaction(lambda conn: conn.execute(query).scalar_one())
        return found

    def last_answers(self, conn: sa.Connection) -> dict[str, dict[str, Any]]:
        """Each task's latest answer in the outbox, as the referral service will read it."""
        outbox = self.provider.tables.outbox
        latest: dict[str, dict[str, Any]] = {}
        for (body,) in conn.execute(sa.select(outbox.c.body).order_by(outbox.c.id)):
            data = json.loads(body)["data"]
            latest[data["task_id"]] = data
        return latest
