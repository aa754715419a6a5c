"""Every stream the shelter service reads, in one place."""

from __future__ import annotations

from korpu_contracts import referral, registry, streams
from korpu_runtime.consumer import Message, Subscription
from korpu_runtime.unit_of_work import UnitOfWork
from shelter.service_layer import handlers


def _request_or_cancellation(uow: UnitOfWork, message: Message) -> None:
    envelope = message.envelope
    if envelope.type == referral.TaskRequested.TYPE:
        handlers.request_bed(uow, envelope)
    elif envelope.type == referral.TaskCancelled.TYPE:
        handlers.cancel(uow, envelope)
    else:
        # An event this build cannot read (a newer publisher's?) stays pending,
        # so a deploy that knows it can still act on it. Rejected: acknowledging
        # and dropping it, which would lose a request or a cancellation for good.
        raise registry.UnknownEventType(envelope.type)


SUBSCRIPTIONS = (
    Subscription(
        name="shelter.requests",
        stream=streams.SHELTER_REQUESTS,
        group=streams.GROUP_SHELTER,
        handler=_request_or_cancellation,
    ),
)
