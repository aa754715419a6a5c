"""Requests, cancellations, case workers' actions and the waitlist's moves, for every provider.

Every handler locks the provider's directory first (`Provider.directory`), so
that deciding, waitlisting and promoting see one consistent state on every
replica, and every change to a task is made under that lock (which is also what
keeps `updated_at` in the order of commits, for `GET /v1/tasks`). Which answer
names which cause is `answers`' rule. The case workers' actions, and the
statuses each starts from: `actions`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.engine import Connection

from korpu_contracts import referral, registry, streams
from korpu_contracts.envelope import Envelope
from korpu_contracts.vocabulary import FINAL_TASK_STATUSES, Reason, TaskStatus
from korpu_provider import waitlist
from korpu_provider.actions import ALLOWED, Action, NotAccepted, NotAllowed, TransferRefused
from korpu_provider.answers import Answers, Detail
from korpu_provider.decisions import Give, Wait
from korpu_provider.protocol import Provider
from korpu_provider.tasks import HOLDING, Row, is_tombstone
from korpu_runtime import logging as runtime_logging
from korpu_runtime.unit_of_work import UnitOfWork

log = runtime_logging.get(__name__)

AnyProvider = Provider[Any, Any, Any]


class UnknownTask(LookupError):
    pass


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
        if TaskStatus(task.status) in FINAL_TASK_STATUSES:
            return  # rejected, completed or already cancelled: nothing held, nothing to undo
        reason = Reason(cancelled.reason)
        self._leave(uow, task, TaskStatus.CANCELLED, reason, directory, envelope)

    def complete(self, uow: UnitOfWork, task_id: str, outcome: str) -> None:
        """A case worker ended the help: the task is done and its place goes to the next."""
        conn = uow.conn
        directory = self.provider.directory(conn, lock=True)
        try:
            task = self._acted_on(conn, task_id, Action.COMPLETE)
        except NotAllowed as refused:
            raise NotAccepted(refused.status) from None
        kept = {"outcome": outcome} if self.tasks.keeps_outcome else {}
        self.tasks.update(conn, task_id, status=TaskStatus.COMPLETED, **kept)
        # What was given and the outcome, as a completion always said. Rejected: the held
        # detail `arrived` repeats, whose appointment or interpreter is of no use now.
        given = self.provider.given(
            directory[getattr(task, self.tasks.holds)], self.provider.request_of(task)
        )
        detail = {**given, "outcome": outcome}
        self.answers.tell(uow, task, TaskStatus.COMPLETED, None, detail)
        if self.provider.completion_frees:
            self._free(uow, task, None)
        self.announce(uow, directory)

    def arrived(self, uow: UnitOfWork, task_id: str) -> None:
        """The person came to the place given: the help is under way (`in-progress`)."""
        conn = uow.conn
        directory = self.provider.directory(conn, lock=True)
        task = self._acted_on(conn, task_id, Action.ARRIVED)
        self.tasks.update(conn, task_id, status=TaskStatus.IN_PROGRESS, reason=None)
        # The same detail as the place's answer: the agency still reads where and what.
        detail = self._held(conn, task, directory)
        self.answers.tell(uow, task, TaskStatus.IN_PROGRESS, None, detail)

    def not_arrived(self, uow: UnitOfWork, task_id: str, reason: Reason) -> None:
        """The person never came (and could not be reached): failed, the place goes on."""
        conn = uow.conn
        directory = self.provider.directory(conn, lock=True)
        task = self._acted_on(conn, task_id, Action.NOT_ARRIVED)
        self._leave(uow, task, TaskStatus.FAILED, reason, directory, None)

    def decline(self, uow: UnitOfWork, task_id: str, reason: Reason) -> None:
        """The provider or the person said no before the help began: rejected, the place
        (or the place in line) goes to the next."""
        conn = uow.conn
        directory = self.provider.directory(conn, lock=True)
        task = self._acted_on(conn, task_id, Action.DECLINE)
        self._leave(uow, task, TaskStatus.REJECTED, reason, directory, None)

    def transfer(self, uow: UnitOfWork, task_id: str, to: str) -> None:
        """Move the person to another entry of this provider with room that the provider's
        own rules would give them; the status stays, the old place goes to the next.

        The target is decided by the domain's decision function over that entry alone,
        so a transfer never places anyone where a request could not (a man in a women's
        shelter, a child with adults, a lawyer outside the region). Rejected: checking
        `serves` and room only, which skips the rules `decide` adds (a program's
        languages, the region of legal aid).
        """
        conn = uow.conn
        directory = self.provider.directory(conn, lock=True)
        task = self._acted_on(conn, task_id, Action.TRANSFER)
        if self.provider.room_comes_with_time and self.fill(uow):
            # As before a request: room that came with time goes to those waiting first.
            self.announce(uow, directory)
            directory = self.provider.directory(conn, lock=True)
        target = self._target(task, directory, to)
        request = self.provider.request_of(task)
        left = getattr(task, self.tasks.holds)
        self.provider.release(conn, task)
        kept = self.provider.take(conn, target, request)
        self.tasks.update(conn, task_id, **{self.tasks.holds: target.id, **kept})
        detail = {**self.provider.given(target, request), **kept}
        self.answers.tell(uow, task, TaskStatus(task.status), None, detail)
        log.info("task_transferred", task_id=task_id)
        self._promote(uow, left, None)
        self.announce(uow, directory)

    def _acted_on(self, conn: Connection, task_id: str, action: Action) -> Row:
        task = self.tasks.task(conn, task_id)
        if task is None:
            raise UnknownTask(task_id)
        status = TaskStatus(task.status)
        if status not in ALLOWED[action]:
            raise NotAllowed(action, status)
        return task

    def _target(self, task: Row, directory: Mapping[str, Any], to: str) -> Any:
        target = next((entry for entry in directory.values() if entry.name == to), None)
        if target is None:
            raise TransferRefused(TransferRefused.UNKNOWN_ENTRY)
        if target.id == getattr(task, self.tasks.holds):
            raise TransferRefused(TransferRefused.SAME_ENTRY)
        decision = self.provider.decide(self.provider.request_of(task), [target])
        if isinstance(decision, Wait):
            raise TransferRefused(TransferRefused.NO_ROOM)
        if not isinstance(decision, Give):
            raise TransferRefused(TransferRefused.NOT_SUITED, str(decision.reason))
        return target

    def _held(self, conn: Connection, task: Row, directory: Mapping[str, Any]) -> Detail:
        """What the task's answers say it holds: its latest answer's detail while holding
        (with what `take` kept: an appointment, an interpreter), else the entry given."""
        history = self.tasks.history_of(conn, task.task_id)
        if history and TaskStatus(history[-1].status) in HOLDING:
            return dict(history[-1].detail)
        # A task placed before histories were kept.
        entry = directory[getattr(task, self.tasks.holds)]
        return self.provider.given(entry, self.provider.request_of(task))

    def _leave(
        self,
        uow: UnitOfWork,
        task: Row,
        status: TaskStatus,
        reason: Reason,
        directory: Mapping[str, Any],
        cause: Envelope | None,
    ) -> None:
        """End a task that has not ended (cancelled, failed, rejected): its place, or its
        place in line, goes to the next person."""
        was = TaskStatus(task.status)
        self.tasks.update(uow.conn, task.task_id, status=status, reason=reason)
        # Answered before the place is given on, so the outbox (sent in id order)
        # tells the story in the order it happened.
        self.answers.tell(uow, task, status, reason, cause=cause)
        if was in HOLDING and getattr(task, self.tasks.holds) is not None:
            self._free(uow, task, cause)
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
        self.provider.release(uow.conn, task)
        self._promote(uow, getattr(task, self.tasks.holds), cause)

    def _promote(self, uow: UnitOfWork, entry_id: str, cause: Envelope | None) -> None:
        """Give the room `entry_id` has to the next people waiting whom it serves."""
        conn = uow.conn
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
