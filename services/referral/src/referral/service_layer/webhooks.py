"""Webhooks to agencies: endpoints registered, rotated and removed, and the thin delivery an
event becomes, written beside the event in the same transaction (the webhook outbox)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json

from sqlalchemy.engine import Connection

from korpu_contracts import referral
from referral.adapters import webhook_deliveries as deliveries
from referral.adapters import webhook_endpoints as endpoints
from referral.domain import exceptions

# What an agency can ask for; none listed means all of them, those added later too.
EVENT_TYPES = (referral.ReferralStatusChanged.TYPE,)
MAX_EVENTS = len(EVENT_TYPES) * 4  # a list longer than this is not a list of types
# Both secrets sign for a day after a rotation: time for the agency to deploy the new one.
ROTATION_OVERLAP = dt.timedelta(days=1)


@dataclasses.dataclass(frozen=True)
class StatusChange:
    """What a delivery says: the type, the referral, its status and when; nothing else.
    What `GET /v1/referrals/{id}` shows is fetched by the agency, so every read is audited."""

    message_id: str
    organization_id: str
    referral_id: str
    status: str
    at: dt.datetime


def register(
    conn: Connection, organization_id: str, url: str, events: list[str], cap: int
) -> tuple[endpoints.Endpoint, str]:
    """A new endpoint and its secret (shown once); the URL was checked by the caller."""
    unknown = sorted(set(events) - set(EVENT_TYPES))
    if unknown:
        raise exceptions.UnknownEventType(", ".join(unknown))
    if endpoints.count(conn, organization_id) >= cap:
        raise exceptions.TooManyWebhooks(cap)
    now = dt.datetime.now(dt.UTC)
    return endpoints.create(conn, organization_id, url, sorted(set(events)), now)


def rotate(conn: Connection, organization_id: str, endpoint_id: str) -> str | None:
    now = dt.datetime.now(dt.UTC)
    return endpoints.rotate(conn, endpoint_id, organization_id, now, ROTATION_OVERLAP)


def status_changed(conn: Connection, change: StatusChange) -> None:
    """A delivery for each of the referring organization's endpoints taking the type; only
    that organization's: no other ever hears of the referral."""
    event_type = referral.ReferralStatusChanged.TYPE
    receiving = endpoints.receiving(conn, change.organization_id, event_type)
    if not receiving:
        return
    deliveries.enqueue(
        conn,
        receiving,
        message_id=change.message_id,
        event_type=event_type,
        referral_id=change.referral_id,
        body=thin_body(event_type, change),
        now=dt.datetime.now(dt.UTC),
    )


def thin_body(event_type: str, change: StatusChange) -> bytes:
    """The standard's payload shape: `type`, `timestamp` and `data`."""
    payload = {
        "type": event_type,
        "timestamp": change.at.astimezone(dt.UTC).isoformat().replace("+00:00", "Z"),
        "data": {"referral_id": change.referral_id, "status": change.status},
    }
    return json.dumps(payload, separators=(",", ":")).encode()
