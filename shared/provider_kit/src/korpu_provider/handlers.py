"""Requests, cancellations, completions and the waitlist's moves, for every provider.

Every handler locks the provider's directory first (`Provider.directory`), so
that deciding, waitlisting and promoting see one consistent state on every
replica. Which answer names which cause is `answers`' rule.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from korpu_contracts import referral, registry, streams
from korpu_contracts.envelope import Envelope
from korpu_contracts.vocabulary import FINAL_TASK_STATUSES, Reason, TaskStatus
from korpu_provider import waitlist
from korpu_provider.answers import Answers, Detail
from korpu_provider.decisions import Give, Wait
from korpu_provider.protocol import Provider
from korpu_provider.tasks import Row, is_tombstone
from korpu_runtime import logging as runtime_logging
from korpu_runtime.unit_of_work import UnitOfWork

log = runtime_logging.get(__name__)

AnyProvider = Provider[Any, Any, Any]


class UnknownTask(LookupError):
    pass


class NotAccepted(Exception):
    """Only a task holding a place can be completed."""

    def __init__(self, status: TaskStatus) -> None:
        super().__init__(f"the task is {status}, not accepted")
        self.status = status


class Handlers:
    """One provider's handlers; built once at bootstrap."""

    def __init__(self, provider: AnyProvider) -> None:
        self.provider = provider
        self.tasks = provider.tasks
        self.answers = Answers(provider.service, streams.updates(provider.service), provider.tasks)

    def request(self, uow: UnitOfWork, envelope: Envelope) -> None:
        """Give, waitlist or refuse; a task already known is a duplicate and changes nothing."""
        asked = registry.read(envelope, referral.TaskRequested)
        conn = uow.conn
        directory = self.provider.directory(conn, lock=True)
        known = self.tasks.get(conn, asked.task_id)
        if known is not None and not is_tombstone(known):
            # Another event for a task already decided (the inbox only stops the same
            # event id). Rejected: answering again, which could place a person twice.
            log.info("task_already_known", task_id=asked.task_id)
            return
        attributes = self.provider.attributes(asked)
        if known is not None:
            # Its cancellation overtook it (no order holds across redeliveries and
            # reclaims): answer cancelled, never allocate. Rejected: allocating and
            # freeing at once, which would briefly tell the referrer a place was given.
            self.tasks.update(conn, asked.task_id, **attributes)
            reason = Reason(known.reason or Reason.WITHDRAWN)
            self.answers.tell(uow, known, TaskStatus.CANCELLED, reason, cause=envelope)
            return
        if self.provider.room_comes_with_time and self.fill(uow):
            # Room that came with no event (a clinic's next day opened) went to the
            # people waiting, in the kit's order, before anyone new is decided.
            # Rejected: deciding the newcomer alone, who would take a place owed to
            # someone already waiting for it; and filling before every provider's
            # requests, which decides the whole line again for each newcomer.
            self.announce(uow, directory)
            directory = self.provider.directory(conn, lock=True)
        task = self.tasks.add(conn, asked.task_id, asked.referral_id, attributes)
        request = self.provider.request_of(task)
        decision = self.provider.decide(request, directory.values())
        if isinstance(decision, Give):
            self._give(uow, task, directory[decision.entry_id], envelope)
            return
        reason = Reason(decision.reason)
        if not isinstance(decision, Wait):
            self.tasks.update(conn, task.task_id, status=TaskStatus.REJECTED, reason=reason)
            told = decision.detail  # why, when the domain says (the shelter's `unmet`)
            self.answers.tell(uow, task, TaskStatus.REJECTED, reason, told, cause=envelope)
            return
        waiting = [self.provider.request_of(row) for row in self.tasks.waiting(conn)]
        serves = self.provider.serves
        (position,) = waitlist.positions([request], waiting, directory.values(), serves)
        on_hold = {"status": TaskStatus.ON_HOLD, "reason": reason, "announced_position": position}
        self.tasks.update(conn, task.task_id, **on_hold)
        detail: Detail = {"waitlist_position": position}
        self.answers.tell(uow, task, TaskStatus.ON_HOLD, reason, detail, cause=envelope)
        if request.is_child:
            # A child goes ahead of the adults competing for the same places; an
            # adult joins at the end and moves nobody, so there is nothing to recount.
            self.announce(uow, directory)

    def cancel(self, uow: UnitOfWork, envelope: Envelope) -> None:
        """Withdraw a task: free its place for the next person waiting, or leave the line."""
        cancelled = registry.read(envelope, referral.TaskCancelled)
        conn = uow.conn
        directory = self.provider.directory(conn, lock=True)
        task = self.tasks.get(conn, cancelled.task_id)
        if task is None:
            # Overtook its request: the tombstone makes that request answer cancelled
            # (`tasks`). Nothing is answered now: the answer belongs to the request.
            # Rejected: dropping it, which would allocate once the request arrived.
            self.tasks.add_tombstone(
                conn, cancelled.task_id, cancelled.referral_id, cancelled.reason
            )
            log.info("task_cancelled_before_request", task_id=cancelled.task_id)
            return
        status = TaskStatus(task.status)
        if status in FINAL_TASK_STATUSES:
            return  # rejected, completed or already cancelled: nothing held, nothing to undo
        self.tasks.update(conn, task.task_id, status=TaskStatus.CANCELLED, reason=cancelled.reason)
        # Answered before the place is given on, so the outbox (sent in id order)
        # tells the story in the order it happened.
        self.answers.tell(uow, task, TaskStatus.CANCELLED, cancelled.reason, cause=envelope)
        if status is TaskStatus.ACCEPTED and getattr(task, self.tasks.holds) is not None:
            self._free(uow, task, envelope)
        self.announce(uow, directory)

    def complete(self, uow: UnitOfWork, task_id: str, outcome: str) -> None:
        """A case worker ended the help: the task is done and its place goes to the next."""
        conn = uow.conn
        directory = self.provider.directory(conn, lock=True)
        task = self.tasks.task(conn, task_id)
        if task is None:
            raise UnknownTask(task_id)
        if task.status != TaskStatus.ACCEPTED:
            raise NotAccepted(TaskStatus(task.status))
        entry = directory[getattr(task, self.tasks.holds)]
        kept = {"outcome": outcome} if self.tasks.keeps_outcome else {}
        self.tasks.update(conn, task_id, status=TaskStatus.COMPLETED, **kept)
        given = self.provider.given(entry, self.provider.request_of(task))
        detail = {**given, "outcome": outcome}
        self.answers.tell(uow, task, TaskStatus.COMPLETED, None, detail)
        if self.provider.completion_frees:
            self._free(uow, task, None)
        self.announce(uow, directory)

    def fill(self, uow: UnitOfWork) -> int:
        """Give every place the directory has free to the people waiting; how many got one.

        For a directory load, which may add room anywhere, and before a new request,
        since room may come with time alone (a clinic's next day): each waiting person
        in the kit's order is decided again by the domain, as a new request would be.
        The directory is read again only after a place was given, so that a line
        nobody leaves costs one read and pure decisions.
        """
        promoted = 0
        conn = uow.conn
        waiting = [self.provider.request_of(row) for row in self.tasks.waiting(conn)]
        directory = self.provider.directory(conn, lock=True) if waiting else {}
        for request in waitlist.ordered(waiting):
            decision = self.provider.decide(request, directory.values())
            if isinstance(decision, Give):
                task = self.tasks.get(conn, request.task_id)
                assert task is not None
                self._give(uow, task, directory[decision.entry_id], None)
                promoted += 1
                directory = self.provider.directory(conn, lock=True)  # one place fewer
        return promoted

    def announce(self, uow: UnitOfWork, directory: Mapping[str, Any]) -> None:
        """Answer on-hold again, with the new position, to each waiting task whose place moved.

        Called, in the same transaction, after whatever moves the line. Everyone is
        recomputed by the rule of the first answer (`waitlist.positions`). Rejected:
        working out whom a change can move, which would restate that rule.
        """
        rows = self.tasks.waiting(uow.conn)
        waiting = [self.provider.request_of(row) for row in rows]
        places = waitlist.positions(waiting, waiting, directory.values(), self.provider.serves)
        for row, position in zip(rows, places, strict=True):
            if position == row.announced_position:
                continue
            self.tasks.update(uow.conn, row.task_id, announced_position=position)
            detail: Detail = {"waitlist_position": position}
            self.answers.tell(uow, row, TaskStatus.ON_HOLD, Reason(row.reason), detail)

    def _free(self, uow: UnitOfWork, task: Row, cause: Envelope | None) -> None:
        """Give back the place `task` held and hand it to the next person waiting for it."""
        conn = uow.conn
        entry_id = getattr(task, self.tasks.holds)
        self.provider.release(conn, task)
        while True:
            entry = self.provider.directory(conn, lock=True)[entry_id]
            waiting = [self.provider.request_of(row) for row in self.tasks.waiting(conn)]
            chosen = waitlist.next_for(entry, waiting, self.provider.serves)
            if chosen is None:
                return
            promoted = self.tasks.get(conn, chosen.task_id)
            assert promoted is not None
            self._give(uow, promoted, entry, cause)
            log.info("waiting_task_promoted", task_id=promoted.task_id)

    def _give(self, uow: UnitOfWork, task: Row, entry: Any, cause: Envelope | None) -> None:
        kept = self.provider.take(uow.conn, entry, self.provider.request_of(task))
        values = {self.tasks.holds: entry.id, **kept}
        self.tasks.update(uow.conn, task.task_id, status=TaskStatus.ACCEPTED, reason=None, **values)
        detail = {**self.provider.given(entry, self.provider.request_of(task)), **kept}
        self.answers.tell(uow, task, TaskStatus.ACCEPTED, None, detail, cause)
