"""Events every receiving service (shelter, employment, legal aid) publishes."""

from __future__ import annotations

from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field

from korpu_contracts import vocabulary
from korpu_contracts.envelope import Envelope, Payload


class TaskUpdated(Payload):
    """A provider's answer about one task (stream `streams.TASK_UPDATES`).

    `detail` says what was given (facility and region, program, lawyer, waitlist
    position, interpreter needed), never anything about another person.
    """

    TYPE: ClassVar[str] = "korpu.task.updated"

    task_id: str
    referral_id: str
    service: vocabulary.Service
    status: vocabulary.TaskStatus
    reason: vocabulary.Reason | None = None
    detail: dict[str, str | int | bool | None] = Field(default_factory=dict)


def answer(
    *,
    source: str,
    service: vocabulary.Service,
    task_id: str,
    referral_id: str,
    status: vocabulary.TaskStatus,
    reason: vocabulary.Reason | None = None,
    detail: dict[str, str | int | bool | None] | None = None,
    cause: Envelope | None = None,
) -> Envelope:
    """A provider's TaskUpdated, filed under the task's own case (see `Envelope.caused`).

    `cause` is the event that led to it, if any: the request answered, or another
    person's cancellation that freed the place now given to this one.
    """
    update = TaskUpdated(
        task_id=task_id,
        referral_id=referral_id,
        service=service,
        status=status,
        reason=reason,
        detail=detail or {},
    )
    if cause is None:
        return Envelope.wrap(update, source=source, subject=referral_id)
    return cause.caused(update, source=source, subject=referral_id)


class Completion(BaseModel):
    """Body of every provider's `POST /v1/tasks/{id}/complete` (the case workers' API)."""

    # An unknown field is refused, so a misspelt one is never silently dropped.
    model_config = ConfigDict(extra="forbid")

    # A code, not free text: the outcome travels to the agency, and text could name someone.
    outcome: vocabulary.Outcome
