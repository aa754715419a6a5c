"""Every stream the employment service reads, in one place."""

from __future__ import annotations

from employment.service_layer import handlers
from korpu_contracts import referral, streams
from korpu_runtime.consumer import Subscription, by_type

SUBSCRIPTIONS = (
    Subscription(
        name="employment.requests",
        stream=streams.EMPLOYMENT_REQUESTS,
        group=streams.GROUP_EMPLOYMENT,
        handler=by_type(
            {
                referral.TaskRequested.TYPE: handlers.request,
                referral.TaskCancelled.TYPE: handlers.cancel,
            }
        ),
    ),
)
