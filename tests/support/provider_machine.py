"""What every provider's stateful test shares: a database per example, the steps the
referral service and case workers take, and the tasks and answers read back.

Each provider's test adds who asks and what its directory holds, and the
promises it checks after every step.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any, ClassVar

import sqlalchemy as sa
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule
from sqlalchemy.engine import Connection

from korpu_contracts import referral
from korpu_contracts.envelope import Envelope
from korpu_contracts.vocabulary import Reason, Service, TaskStatus
from korpu_provider.actions import ALLOWED, Action, NotAllowed, TransferRefused
from korpu_provider.handlers import NotAccepted
from korpu_provider.tasks import HOLDING
from korpu_runtime.database import Database
from korpu_runtime.unit_of_work import UnitOfWork

Handler = Callable[[UnitOfWork, Envelope], object]
Person = dict[str, Any]  # the coarse attributes of `referral.TaskRequested`

# Enough steps for places to run out, free up and be cut; all three providers
# together run in well under half a minute here.
SETTINGS = settings(
    max_examples=50,
    stateful_step_count=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


def priority(request: Any) -> tuple[bool, int]:
    """The waitlist's order, written here rather than taken from the domain: children
    first, then who came first (`queued_seq` grows with arrival)."""
    return (not request.is_child, request.queued_seq)


def position(person: Any, waiting: Iterable[Any], entries: Iterable[Any], serves: Any) -> int:
    """The place in line the waitlist promises, written here rather than taken from the kit:
    one more than the people ahead whom some entry serving this person also serves."""
    mine = [entry for entry in entries if serves(entry, person)]
    ahead = [
        other
        for other in waiting
        if other.task_id != person.task_id
        and priority(other) < priority(person)
        and any(serves(entry, other) for entry in mine)
    ]
    return len(ahead) + 1


@dataclass(frozen=True)
class Provider:
    """The parts of a provider its stateful test drives."""

    service: Service
    tables: ModuleType  # the provider's `adapters.tables`
    request: Handler
    cancel: Handler
    complete: Callable[[UnitOfWork, str, str], object]  # a case worker ends a task
    not_accepted: type[Exception]  # what `complete` raises for a task not accepted
    load_directory: Callable[[Connection, list[dict[str, Any]]], object]
    unit: str  # what a directory entry is: "Shelter"
    capacity: str  # the entry's field counting its places: "beds"
    # The kit's handlers, for a case worker's other actions (arrived, decline, ...).
    actions: Any = None


def on_the_kit(entrypoints: Any, tables: ModuleType, unit: str, capacity: str) -> Provider:
    """A provider built on the kit (its `bootstrap.SERVICE`, `korpu_provider.bootstrap`)."""
    handlers = entrypoints.handlers
    return Provider(
        service=entrypoints.provider.service,
        tables=tables,
        request=handlers.request,
        cancel=handlers.cancel,
        complete=handlers.complete,
        not_accepted=NotAccepted,
        load_directory=entrypoints.load,
        unit=unit,
        capacity=capacity,
        actions=handlers,
    )


class ProviderMachine(RuleBasedStateMachine):
    """A provider on a SQLite file of its own, driven as the referral service and case
    workers drive it; subclasses say who asks, what the directory holds, and check."""

    provider: ClassVar[Provider]
    people: ClassVar[st.SearchStrategy[Person]]
    entries_drawn: ClassVar[st.SearchStrategy[list[dict[str, Any]]]]  # the directory, unnamed

    def __init__(self) -> None:
        super().__init__()
        self.folder = Path(tempfile.mkdtemp(prefix=f"{self.provider.service}-stateful-"))
        self.db = Database(f"sqlite:///{self.folder / 'provider.db'}")
        self.db.create_schema(self.provider.tables.metadata)
        self.entries: list[dict[str, Any]] = []
        self.requested: list[str] = []
        self.ahead: list[str] = []  # cancelled before their request arrived
        self.count = 0
        # Each task as the last check saw it, so a check can tell who was just placed.
        self.before: dict[str, Any] = {}

    def teardown(self) -> None:
        self.db.close()
        shutil.rmtree(self.folder, ignore_errors=True)

    # --- what the referral service and the case workers do ---------------------

    @initialize(data=st.data())
    def load_directory(self, data: st.DataObject) -> None:
        entries = data.draw(self.entries_drawn, label="directory")
        unit = self.provider.unit
        self.entries = [{"name": f"{unit} {i}", **entry} for i, entry in enumerate(entries)]
        self._reload()

    # Several at once, so that places run out and people wait.
    @rule(data=st.data())
    def request(self, data: st.DataObject) -> None:
        for person in data.draw(st.lists(self.people, min_size=1, max_size=4), label="arrivals"):
            task_id = self.new_task()
            self.send(self.requested_event(task_id, person))
            self.requested.append(task_id)

    @precondition(lambda self: self.requested)
    @rule(data=st.data())
    def cancel(self, data: st.DataObject) -> None:
        task_id = self.pick(data, TaskStatus.ACCEPTED)
        self.send(self.cancelled_event(task_id))

    @precondition(lambda self: not self.ahead)
    @rule()
    def cancel_before_its_request(self) -> None:
        task_id = self.new_task()
        self.send(self.cancelled_event(task_id))
        self.ahead.append(task_id)

    @precondition(lambda self: self.ahead)
    @rule(data=st.data())
    def request_after_its_cancellation(self, data: st.DataObject) -> None:
        task_id = data.draw(st.sampled_from(self.ahead))
        self.ahead.remove(task_id)
        self.send(self.requested_event(task_id, data.draw(self.people, label="person")))
        assert self.status(task_id) == TaskStatus.CANCELLED
        self.requested.append(task_id)

    @precondition(lambda self: self.requested)
    @rule(data=st.data())
    def request_delivered_again(self, data: st.DataObject) -> None:
        task_id = data.draw(st.sampled_from(self.requested))
        was = self.status(task_id)
        self.send(self.requested_event(task_id, data.draw(self.people, label="person")))
        assert self.status(task_id) == was

    @precondition(lambda self: self.requested)
    @rule(data=st.data())
    def complete(self, data: st.DataObject) -> None:
        task_id = self.pick(data, TaskStatus.ACCEPTED, TaskStatus.IN_PROGRESS)
        accepted = self.status(task_id) in HOLDING
        try:
            self.db.transaction(
                lambda conn: self.provider.complete(self.uow(conn), task_id, "goal_achieved")
            )
        except self.provider.not_accepted:
            assert not accepted
        else:
            assert accepted

    @precondition(lambda self: self.requested)
    @rule(data=st.data())
    def arrive(self, data: st.DataObject) -> None:
        task_id = self.pick(data, TaskStatus.ACCEPTED)
        self.act(task_id, Action.ARRIVED, lambda uow: self.provider.actions.arrived(uow, task_id))

    @precondition(lambda self: self.requested)
    @rule(data=st.data(), reason=st.sampled_from([Reason.CLIENT_UNREACHABLE, Reason.OTHER]))
    def never_arrive(self, data: st.DataObject, reason: Reason) -> None:
        task_id = self.pick(data, TaskStatus.ACCEPTED)
        actions = self.provider.actions
        self.act(task_id, Action.NOT_ARRIVED, lambda uow: actions.not_arrived(uow, task_id, reason))

    @precondition(lambda self: self.requested)
    @rule(
        data=st.data(),
        reason=st.sampled_from([Reason.CLIENT_DECLINED, Reason.PROVIDER_DECLINED]),
    )
    def decline(self, data: st.DataObject, reason: Reason) -> None:
        task_id = self.pick(data, TaskStatus.ON_HOLD, TaskStatus.ACCEPTED)
        actions = self.provider.actions
        self.act(task_id, Action.DECLINE, lambda uow: actions.decline(uow, task_id, reason))

    @precondition(lambda self: self.requested)
    @rule(data=st.data())
    def transfer(self, data: st.DataObject) -> None:
        task_id = self.pick(data, TaskStatus.ACCEPTED, TaskStatus.IN_PROGRESS)
        to = data.draw(st.sampled_from([entry["name"] for entry in self.entries]), label="to")
        actions = self.provider.actions
        # No room there, or no place for this person: refused, and the promises still hold.
        with contextlib.suppress(TransferRefused):
            self.act(task_id, Action.TRANSFER, lambda uow: actions.transfer(uow, task_id, to))

    def act(self, task_id: str, action: Action, run: Callable[[UnitOfWork], object]) -> None:
        """A case worker's action: done exactly when the task's status allows it."""
        was = TaskStatus(self.status(task_id))
        try:
            self.db.transaction(lambda conn: run(self.uow(conn)))
        except NotAllowed:
            assert was not in ALLOWED[action]
        else:
            assert was in ALLOWED[action]

    @rule(data=st.data(), places=st.integers(min_value=0, max_value=3))
    def change_capacity(self, data: st.DataObject, places: int) -> None:
        index = data.draw(st.integers(min_value=0, max_value=len(self.entries) - 1))
        self.entries[index] = {**self.entries[index], self.provider.capacity: places}
        self._reload()

    def _reload(self) -> None:
        self.db.transaction(lambda conn: self.provider.load_directory(conn, self.entries))

    # --- the promises, read from the database after every step ------------------

    @invariant()
    def promises_hold(self) -> None:
        self.db.transaction(self.check)

    def check(self, conn: sa.Connection) -> None:
        raise NotImplementedError

    # --- reading back ----------------------------------------------------------

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
        return UnitOfWork(
            conn, self.provider.tables.schema.outbox, self.provider.tables.schema.inbox
        )

    def status(self, task_id: str) -> str:
        tasks = self.provider.tables.tasks
        query = sa.select(tasks.c.status).where(tasks.c.task_id == task_id)
        found: str = self.db.transaction(lambda conn: conn.execute(query).scalar_one())
        return found

    def last_answers(self, conn: sa.Connection) -> dict[str, dict[str, Any]]:
        """Each task's latest answer in the outbox, as the referral service will read it."""
        outbox = self.provider.tables.schema.outbox
        latest: dict[str, dict[str, Any]] = {}
        for (body,) in conn.execute(sa.select(outbox.c.body).order_by(outbox.c.id)):
            data = json.loads(body)["data"]
            latest[data["task_id"]] = data
        return latest
