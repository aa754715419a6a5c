"""Every stream the shelter service reads, in one place."""

from __future__ import annotations

from korpu_contracts import referral, streams
from korpu_runtime.consumer import Subscription, by_type
from shelter.service_layer import handlers

SUBSCRIPTIONS = (
    Subscription(
        name="shelter.requests",
        stream=streams.SHELTER_REQUESTS,
        group=streams.GROUP_SHELTER,
        handler=by_type(
            {
                referral.TaskRequested.TYPE: handlers.request_bed,
                referral.TaskCancelled.TYPE: handlers.cancel,
            }
        ),
    ),
)
