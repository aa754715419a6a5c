"""Every stream the legal aid service reads, in one place."""

from __future__ import annotations

from korpu_contracts import referral, streams
from korpu_runtime.consumer import Subscription, by_type
from legal_aid.service_layer import handlers

SUBSCRIPTIONS = (
    Subscription(
        name="legal_aid.requests",
        stream=streams.LEGAL_AID_REQUESTS,
        group=streams.GROUP_LEGAL_AID,
        handler=by_type(
            {
                referral.TaskRequested.TYPE: handlers.request,
                referral.TaskCancelled.TYPE: handlers.cancel,
            }
        ),
    ),
)
