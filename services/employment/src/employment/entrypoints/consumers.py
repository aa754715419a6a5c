"""Every stream the employment service reads, in one place."""

from __future__ import annotations

from employment.service_layer import handlers
from korpu_contracts import referral, registry, streams
from korpu_runtime.consumer import Message, Subscription
from korpu_runtime.unit_of_work import UnitOfWork

_BY_TYPE = {
    referral.TaskRequested.TYPE: handlers.request,
    referral.TaskCancelled.TYPE: handlers.cancel,
}


def _task_request_or_cancellation(uow: UnitOfWork, message: Message) -> None:
    handler = _BY_TYPE.get(message.envelope.type)
    if handler is None:
        # Raise, so the entry stays pending and is kept for a build that knows the
        # type. Rejected: acknowledging and dropping it, which would lose, say, a
        # new kind of cancellation sent by a newer referral service.
        raise registry.UnknownEventType(message.envelope.type)
    handler(uow, message.envelope)


SUBSCRIPTIONS = (
    Subscription(
        name="employment.requests",
        stream=streams.EMPLOYMENT_REQUESTS,
        group=streams.GROUP_EMPLOYMENT,
        handler=_task_request_or_cancellation,
    ),
)
