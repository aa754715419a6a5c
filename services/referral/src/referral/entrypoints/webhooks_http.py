"""`/v1/webhooks`: an agency registers, lists, rotates and removes where its events are sent
(Standard Webhooks; docs/webhooks.md), and reads each endpoint's delivery log."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, Field

from korpu_runtime import problems as kinds
from korpu_runtime.http import Problem
from referral.adapters import webhook_deliveries, webhook_endpoints, webhook_targets
from referral.domain import exceptions
from referral.entrypoints import http as referral_http
from referral.entrypoints import webhook_sender
from referral.service_layer import webhooks

api = APIRouter(prefix="/v1", tags=["webhooks"])
CANNOT_MANAGE = (403, "An API key without the scope `webhooks:manage`")
NOT_FOUND_ANSWER = (404, "No such endpoint, or another organization's")
NOT_FOUND = "No such webhook endpoint for this organization."


class NewEndpoint(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str = Field(min_length=1, max_length=webhook_targets.MAX_URL)
    # Event types delivered (`korpu.referral.status_changed`); none listed means all.
    events: list[Annotated[str, Field(max_length=80)]] = Field(
        default_factory=list, max_length=webhooks.MAX_EVENTS
    )


async def _config(request: Request) -> webhook_sender.Config:
    config: webhook_sender.Config = request.app.state.webhooks
    return config


Config = Annotated[webhook_sender.Config, Depends(_config)]


def _invalid(field: str, message: str) -> Problem:
    return Problem(
        kinds.INVALID_REQUEST, detail=message, errors=[{"field": field, "message": message}]
    )


@api.post(
    "/webhooks",
    status_code=201,
    responses=referral_http.problems(
        referral_http.UNAUTHORIZED,
        CANNOT_MANAGE,
        (409, "The organization has as many endpoints as it may"),
        (422, "A URL that is not https or reaches a private address, or an unknown event type"),
    ),
)
async def register(
    body: NewEndpoint,
    service: referral_http.ServiceDep,
    caller: referral_http.WebhookManager,
    config: Config,
) -> dict[str, Any]:
    """Register an endpoint; the answer holds its `whsec_` secret, shown this once."""
    try:
        await asyncio.to_thread(webhook_targets.resolve, body.url, config.allow_private)
    except webhook_targets.Refused as refused:
        raise _invalid("url", str(refused)) from None
    organization_id = caller.organization_id
    try:
        endpoint, secret = await service.db.run(
            lambda conn: webhooks.register(
                conn, organization_id, body.url, body.events, config.max_endpoints
            )
        )
    except exceptions.UnknownEventType as unknown:
        raise _invalid("events", f"unknown event types: {unknown}") from None
    except exceptions.TooManyWebhooks as cap:
        raise Problem(
            kinds.CONFLICT,
            detail=f"This organization has {cap.cap} webhook endpoints, the most it may have.",
        ) from None
    return {**endpoint.shown(), "secret": secret}


@api.get("/webhooks", responses=referral_http.problems(referral_http.UNAUTHORIZED, CANNOT_MANAGE))
async def list_endpoints(
    service: referral_http.ServiceDep, caller: referral_http.WebhookManager
) -> list[dict[str, Any]]:
    """The organization's endpoints, never their secrets."""
    organization_id = caller.organization_id
    found = await service.db.run(lambda conn: webhook_endpoints.listed(conn, organization_id))
    return [endpoint.shown() for endpoint in found]


@api.post(
    "/webhooks/{webhook_id}/rotate",
    responses=referral_http.problems(referral_http.UNAUTHORIZED, CANNOT_MANAGE, NOT_FOUND_ANSWER),
)
async def rotate(
    webhook_id: str, service: referral_http.ServiceDep, caller: referral_http.WebhookManager
) -> dict[str, str]:
    """A new secret, shown once; the old one signs beside it for a day."""
    organization_id = caller.organization_id
    secret = await service.db.run(lambda conn: webhooks.rotate(conn, organization_id, webhook_id))
    if secret is None:
        raise Problem(404, "Not found", NOT_FOUND)
    return {"id": webhook_id, "secret": secret}


@api.get(
    "/webhooks/{webhook_id}/deliveries",
    responses=referral_http.problems(referral_http.UNAUTHORIZED, CANNOT_MANAGE, NOT_FOUND_ANSWER),
)
async def deliveries(
    webhook_id: str, service: referral_http.ServiceDep, caller: referral_http.WebhookManager
) -> list[dict[str, Any]]:
    """The endpoint's newest 100 deliveries, each with every attempt and its answer."""
    organization_id = caller.organization_id

    def read(conn: Any) -> list[dict[str, Any]] | None:
        if webhook_endpoints.find(conn, webhook_id, organization_id) is None:
            return None
        return webhook_deliveries.log(conn, webhook_id)

    found = await service.db.run(read)
    if found is None:
        raise Problem(404, "Not found", NOT_FOUND)
    return found


@api.delete(
    "/webhooks/{webhook_id}",
    status_code=204,
    responses=referral_http.problems(referral_http.UNAUTHORIZED, CANNOT_MANAGE, NOT_FOUND_ANSWER),
)
async def remove(
    webhook_id: str, service: referral_http.ServiceDep, caller: referral_http.WebhookManager
) -> None:
    """Remove the endpoint with its delivery log; nothing more is sent to it."""
    organization_id = caller.organization_id
    removed = await service.db.run(
        lambda conn: webhook_endpoints.delete(conn, webhook_id, organization_id)
    )
    if not removed:
        raise Problem(404, "Not found", NOT_FOUND)
