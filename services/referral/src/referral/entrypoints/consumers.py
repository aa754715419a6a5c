"""Every stream the referral service reads, in one place."""

from __future__ import annotations

from korpu_contracts import streams
from korpu_runtime.consumer import Message, Subscription
from korpu_runtime.unit_of_work import UnitOfWork
from referral.service_layer import coordinator, intake


def _task_updated(uow: UnitOfWork, message: Message) -> None:
    coordinator.record_task_update(uow, message.envelope)


SUBSCRIPTIONS = (
    Subscription(
        name=intake.SUBSCRIPTION,
        stream=streams.INTAKE,
        group=streams.GROUP_REFERRAL_INTAKE,
        handler=intake.handle_submission,
        on_invalid=intake.handle_invalid_entry,
        personal_data=True,
    ),
    # One stream per provider (`streams.UPDATES_BY_SERVICE`), each read alike.
    *(
        Subscription(
            name=f"referral.task_updates.{service}",
            stream=stream,
            group=streams.GROUP_REFERRAL_COORDINATOR,
            handler=_task_updated,
        )
        for service, stream in streams.UPDATES_BY_SERVICE.items()
    ),
)
