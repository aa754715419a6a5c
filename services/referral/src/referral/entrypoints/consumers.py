"""Every stream the referral service reads, in one place."""

from __future__ import annotations

import dataclasses

from korpu_contracts import streams
from korpu_runtime.consumer import Message, Subscription
from korpu_runtime.unit_of_work import UnitOfWork
from referral.service_layer import coordinator, intake


def _task_updated(uow: UnitOfWork, message: Message) -> None:
    coordinator.record_task_update(uow, message.envelope)


# Each organization on the bus has its own intake stream (`streams.intake`), read
# from the moment it has a bus key (entrypoints/intake_streams.py): this is what they
# share, under the stream's template.
INTAKE = Subscription(
    name=intake.SUBSCRIPTION,
    stream=streams.INTAKE,
    group=streams.GROUP_REFERRAL_INTAKE,
    handler=intake.handle_submission,
    on_invalid=intake.handle_invalid_entry,
    personal_data=True,
)


def intake_of(organization_id: str) -> Subscription:
    """The subscription to one organization's intake, with an inbox of its own."""
    return dataclasses.replace(
        INTAKE,
        name=intake.subscription_of(organization_id),
        stream=streams.intake(organization_id),
    )


# The streams read from the start.
SUBSCRIPTIONS = (
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
# The streams read per organization, once it is known: under their templates, for
# what must know every stream this service may read (its Redis user, the checks).
TEMPLATES = (INTAKE,)
