"""Every stream the legal aid service reads, in one place."""

from __future__ import annotations

from collections.abc import Callable

from korpu_contracts import referral, registry, streams
from korpu_contracts.envelope import Envelope
from korpu_runtime.consumer import Message, Subscription
from korpu_runtime.unit_of_work import UnitOfWork
from legal_aid.service_layer import handlers

_BY_TYPE: dict[str, Callable[[UnitOfWork, Envelope], None]] = {
    referral.TaskRequested.TYPE: handlers.request,
    referral.TaskCancelled.TYPE: handlers.cancel,
}


def _request_or_cancel(uow: UnitOfWork, message: Message) -> None:
    handler = _BY_TYPE.get(message.envelope.type)
    if handler is None:
        # Raise, so the entry stays pending and is not recorded in the inbox: it is
        # a type from a newer publisher, for a newer version of this service.
        # Rejected: acknowledging and dropping it, which would lose a request for good.
        raise registry.UnknownEventType(message.envelope.type)
    handler(uow, message.envelope)


SUBSCRIPTIONS = (
    Subscription(
        name="legal_aid.requests",
        stream=streams.LEGAL_AID_REQUESTS,
        group=streams.GROUP_LEGAL_AID,
        handler=_request_or_cancel,
    ),
)
