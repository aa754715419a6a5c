"""Answers about tasks on `streams.SHELTER_UPDATES`, written to the outbox with the state change."""

from __future__ import annotations

import dataclasses

from korpu_contracts import providers, streams
from korpu_contracts.envelope import Envelope, source_of
from korpu_contracts.vocabulary import Reason, Service, TaskStatus
from korpu_runtime import logging as runtime_logging
from korpu_runtime.unit_of_work import UnitOfWork
from shelter.adapters.repository import ShelterRepository

SOURCE = source_of("shelter")
log = runtime_logging.get(__name__)

# What was given (facility and region, waitlist position, outcome); never another person's data.
Detail = dict[str, str | int | bool | None]


@dataclasses.dataclass(frozen=True)
class Reply:
    """Answers about one task on `streams.SHELTER_UPDATES`, through the outbox."""

    uow: UnitOfWork
    task_id: str
    referral_id: str
    # The event answered, for subject, correlation and causation; None for a
    # case worker's action or a promotion (see `handlers.fill`).
    cause: Envelope | None = None

    def tell(
        self, status: TaskStatus, reason: Reason | None = None, detail: Detail | None = None
    ) -> None:
        envelope = providers.answer(
            source=SOURCE,
            service=Service.SHELTER,
            task_id=self.task_id,
            referral_id=self.referral_id,
            status=status,
            revision=ShelterRepository(self.uow.conn).next_revision(self.task_id),
            reason=reason,
            detail=detail,
            cause=self.cause,
        )
        self.uow.publish(streams.SHELTER_UPDATES, envelope)
        log.info("task_answered", task_id=self.task_id, status=str(status))
