"""The one writer of a provider's answers (`TaskUpdated`), and the one causation rule.

Causation, decided once for every provider (docs/provider-kit.md): an answer
names as its cause the bus event whose handling made the decision it reports.

- the request it answers (accepted, on hold, rejected, or cancelled when its
  cancellation came first);
- the cancellation it answers;
- a promotion from the waitlist: the event that freed the place, usually another
  person's cancellation. The answer is still filed under the promoted person's own
  case (own subject and correlation, `Envelope.caused`): only the causation id,
  an opaque event id, links the two, for an operator tracing why a bed moved.

A case worker's completion, a directory load, and the positions re-announced
when the line moves name no cause: no bus event made them (the position of one
person is bookkeeping, not a decision about them). Rejected: the shelter's old
rule of no cause for promotions, which left an operator no way to tell why a
person was placed at midnight.
"""

from __future__ import annotations

from korpu_contracts import providers
from korpu_contracts.envelope import Envelope, source_of
from korpu_contracts.vocabulary import Reason, Service, TaskStatus
from korpu_provider.tasks import Row, Tasks
from korpu_runtime import logging as runtime_logging
from korpu_runtime.unit_of_work import UnitOfWork

log = runtime_logging.get(__name__)

# What was given (facility, program or lawyer; waitlist position; outcome), never
# anything about another person.
Detail = dict[str, str | int | bool | None]


class Answers:
    """Writes one provider's answers to the outbox, in the transaction of the change."""

    def __init__(self, service: Service, stream: str, tasks: Tasks) -> None:
        self.service = service
        self.stream = stream
        self.source = source_of(str(service))
        self.tasks = tasks

    def tell(
        self,
        uow: UnitOfWork,
        task: Row,
        status: TaskStatus,
        reason: Reason | None = None,
        detail: Detail | None = None,
        cause: Envelope | None = None,
    ) -> None:
        revision = self.tasks.next_revision(uow.conn, task.task_id)
        envelope = providers.answer(
            source=self.source,
            service=self.service,
            task_id=task.task_id,
            referral_id=task.referral_id,
            status=status,
            revision=revision,
            reason=reason,
            detail=detail,
            cause=cause,
        )
        # Kept as told: the task's history is the answers the referral service was sent.
        told = None if reason is None else str(reason)
        self.tasks.record(uow.conn, task.task_id, revision, status, told, detail or {})
        uow.publish(self.stream, envelope)
        log.info("task_answered", task_id=task.task_id, status=str(status))
