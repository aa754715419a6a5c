"""Events every receiving service (shelter, employment, legal aid) publishes."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

from korpu_contracts import tolerant, vocabulary
from korpu_contracts.envelope import Envelope, Payload


class TaskUpdated(Payload):
    """A provider's answer about one task (its stream in `streams.UPDATES_BY_SERVICE`).

    `detail` says what was given (facility and region, program, lawyer, waitlist
    position, interpreter needed), never anything about another person.

    `revision` numbers the provider's answers about this task: 1 for the first,
    one more for each after. Nothing keeps answers in order on the way (a failed
    entry is retried after later ones, a relay sends again), so a reader keeps
    the highest revision it applied and ignores an answer that is not newer: an
    old `on-hold` must never undo `accepted`. 0 means not numbered (sent before
    revisions existed); such an answer can only be taken in arrival order.
    """

    TYPE: ClassVar[str] = "korpu.task.updated"

    task_id: str
    referral_id: str
    # Read tolerantly (`tolerant`): a service the reader does not know is kept, and
    # refused as no task's; a status, kept for the reader to leave unapplied; a
    # reason, read as `other`.
    service: tolerant.Service
    status: tolerant.TaskStatus
    reason: tolerant.Reason | None = None
    detail: dict[str, str | int | bool | None] = Field(default_factory=dict)
    # Optional with a default, so an answer published before it existed still reads
    # (as 0) and the version stays 1. Counted per task by the provider, because only
    # it knows the order of its own decisions. Rejected: ordering by the envelope's
    # `time`, which two replicas' clocks can get wrong, and by stream entry ids,
    # which follow when a relay sent an answer, not when it was decided.
    revision: int = Field(default=0, ge=0)


def answer(
    *,
    source: str,
    service: vocabulary.Service,
    task_id: str,
    referral_id: str,
    status: vocabulary.TaskStatus,
    revision: int,
    reason: vocabulary.Reason | None = None,
    detail: dict[str, str | int | bool | None] | None = None,
    cause: Envelope | None = None,
) -> Envelope:
    """A provider's TaskUpdated, filed under the task's own case (see `Envelope.caused`).

    `revision` is required here, though optional in the event: every answer a
    provider sends today is numbered (the provider counts per task, in the same
    transaction as the change it reports). `cause` is the event that led to it,
    if any: the request answered, or another person's cancellation that freed
    the place now given to this one.
    """
    if revision < 1:
        raise ValueError("a provider numbers its answers from 1")
    update = TaskUpdated(
        task_id=task_id,
        referral_id=referral_id,
        service=service,
        status=status,
        reason=reason,
        detail=detail or {},
        revision=revision,
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


class NotArrived(BaseModel):
    """Body of `POST /v1/tasks/{id}/not-arrived`: the person given a place never came."""

    model_config = ConfigDict(extra="forbid")

    # `client_unreachable`: did not come and could not be reached; `other`: did not come
    # for a reason the code does not name (never free text, as for an outcome).
    reason: Literal[vocabulary.Reason.CLIENT_UNREACHABLE, vocabulary.Reason.OTHER]


class Decline(BaseModel):
    """Body of `POST /v1/tasks/{id}/decline`: who said no, kept apart (DOMAIN: Primero)."""

    model_config = ConfigDict(extra="forbid")

    by: Literal["provider", "client"]

    @property
    def reason(self) -> vocabulary.Reason:
        if self.by == "provider":
            return vocabulary.Reason.PROVIDER_DECLINED
        return vocabulary.Reason.CLIENT_DECLINED


class Transfer(BaseModel):
    """Body of `POST /v1/tasks/{id}/transfer`: another entry of the same provider's directory."""

    model_config = ConfigDict(extra="forbid")

    # The entry's name as the directory lists it (a facility, program, lawyer, ...).
    to: str = Field(min_length=1, max_length=200)
