"""The TaskUpdated events the legal aid service sends, and what their `detail` may say."""

from __future__ import annotations

from korpu_contracts import providers, streams
from korpu_contracts.envelope import Envelope, source_of
from korpu_contracts.vocabulary import Reason, Service, TaskStatus
from korpu_runtime.unit_of_work import UnitOfWork
from legal_aid.adapters.repository import Repository, TaskRow

SOURCE = source_of("legal_aid")
Detail = dict[str, str | int | bool | None]


def send(
    uow: UnitOfWork,
    task: TaskRow,
    status: TaskStatus,
    *,
    reason: Reason | None = None,
    detail: Detail | None = None,
    cause: Envelope | None = None,
) -> None:
    """Write one TaskUpdated to the outbox, in the transaction that made the change."""
    envelope = providers.answer(
        source=SOURCE,
        service=Service.LEGAL_AID,
        task_id=task.task_id,
        referral_id=task.referral_id,
        status=status,
        revision=Repository(uow.conn).next_revision(task.task_id),
        reason=reason,
        detail=detail,
        cause=cause,
    )
    uow.publish(streams.LEGAL_AID_UPDATES, envelope)


# Each detail names only what this person was given, never another person's data.
def accepted(lawyer_name: str, interpreter_needed: bool) -> Detail:
    return {"lawyer": lawyer_name, "interpreter_needed": interpreter_needed}


def on_hold(position: int) -> Detail:
    return {"waitlist_position": position}


def completed(lawyer_name: str, outcome: str) -> Detail:
    return {"lawyer": lawyer_name, "outcome": outcome}
