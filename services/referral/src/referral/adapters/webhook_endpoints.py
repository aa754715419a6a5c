"""An agency's webhook endpoints: where its events go, and the secret that signs them, sealed.

The secret is sealed with the data keys (adapters/sealing.py) under its own place
(`webhook_endpoints/<id>/secret`): a copy of the database, or a backup, cannot
sign a delivery an agency would believe. Rejected: storing a hash (the sender
needs the secret itself to sign) and the secret in clear (anyone reading the
database could then forge Körpü's deliveries).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import secrets
import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from referral.adapters import sealing, tables
from referral.domain import webhooks

ENDPOINTS = tables.webhook_endpoints


@dataclasses.dataclass(frozen=True)
class Endpoint:
    """An endpoint as its agency and the operator see it: never its secret."""

    id: str
    organization_id: str
    url: str
    events: list[str]
    created_at: dt.datetime
    disabled_at: dt.datetime | None
    # Until when the secret before the last rotation still signs; None when it no longer does.
    previous_secret_until: dt.datetime | None

    def shown(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "url": self.url,
            "events": self.events,
            "created_at": self.created_at.isoformat(),
            "disabled_at": self.disabled_at and self.disabled_at.isoformat(),
            "previous_secret_until": self.previous_secret_until
            and self.previous_secret_until.isoformat(),
        }


def utc(at: dt.datetime) -> dt.datetime:
    """A stored time as UTC: SQLite gives it back without its zone."""
    return at.astimezone(dt.UTC) if at.tzinfo else at.replace(tzinfo=dt.UTC)


def _place(endpoint_id: str, column: str) -> str:
    return f"webhook_endpoints/{endpoint_id}/{column}"


def create(
    conn: Connection, organization_id: str, url: str, events: list[str], now: dt.datetime
) -> tuple[Endpoint, str]:
    """A new endpoint and its secret, which is returned once and kept only sealed."""
    endpoint_id, secret = str(uuid.uuid4()), _new_secret()
    conn.execute(
        ENDPOINTS.insert().values(
            id=endpoint_id,
            organization_id=organization_id,
            url=url,
            events=events,
            secret=sealing.of(conn).seal(secret, _place(endpoint_id, "secret")),
            created_at=now,
        )
    )
    found = find(conn, endpoint_id, organization_id)
    assert found is not None
    return found, secret


def count(conn: Connection, organization_id: str) -> int:
    query = sa.select(sa.func.count()).where(ENDPOINTS.c.organization_id == organization_id)
    return int(conn.execute(query).scalar_one())


def listed(conn: Connection, organization_id: str) -> list[Endpoint]:
    query = (
        sa.select(ENDPOINTS)
        .where(ENDPOINTS.c.organization_id == organization_id)
        .order_by(ENDPOINTS.c.created_at, ENDPOINTS.c.id)
    )
    now = dt.datetime.now(dt.UTC)
    return [_endpoint(row, now) for row in conn.execute(query)]


def find(conn: Connection, endpoint_id: str, organization_id: str | None = None) -> Endpoint | None:
    """The endpoint; None when there is none, or it is not `organization_id`'s (when given)."""
    query = sa.select(ENDPOINTS).where(ENDPOINTS.c.id == endpoint_id)
    if organization_id is not None:
        query = query.where(ENDPOINTS.c.organization_id == organization_id)
    row = conn.execute(query).first()
    return None if row is None else _endpoint(row, dt.datetime.now(dt.UTC))


def delete(conn: Connection, endpoint_id: str, organization_id: str) -> bool:
    """Remove it with its deliveries and their log (the foreign keys cascade)."""
    # Rejected: relying on ON DELETE CASCADE alone, which SQLite applies only with
    # its foreign keys on; deleting in order works on any connection.
    deliveries = tables.webhook_deliveries
    of_endpoint = sa.select(deliveries.c.id).where(deliveries.c.endpoint_id == endpoint_id)
    owned = sa.select(ENDPOINTS.c.id).where(
        ENDPOINTS.c.id == endpoint_id, ENDPOINTS.c.organization_id == organization_id
    )
    if conn.execute(owned).first() is None:
        return False
    attempts = tables.webhook_attempts
    conn.execute(attempts.delete().where(attempts.c.delivery_id.in_(of_endpoint)))
    conn.execute(deliveries.delete().where(deliveries.c.endpoint_id == endpoint_id))
    conn.execute(ENDPOINTS.delete().where(ENDPOINTS.c.id == endpoint_id))
    return True


def rotate(
    conn: Connection,
    endpoint_id: str,
    organization_id: str,
    now: dt.datetime,
    overlap: dt.timedelta,
) -> str | None:
    """A new secret; the current one signs beside it for `overlap`. None: no such endpoint."""
    row = conn.execute(
        sa.select(ENDPOINTS.c.secret).where(
            ENDPOINTS.c.id == endpoint_id, ENDPOINTS.c.organization_id == organization_id
        )
    ).first()
    if row is None:
        return None
    keys, secret = sealing.of(conn), _new_secret()
    current = keys.open(row.secret, _place(endpoint_id, "secret"))
    conn.execute(
        ENDPOINTS.update()
        .where(ENDPOINTS.c.id == endpoint_id)
        .values(
            secret=keys.seal(secret, _place(endpoint_id, "secret")),
            previous_secret=keys.seal(current, _place(endpoint_id, "previous_secret")),
            previous_until=now + overlap,
        )
    )
    return secret


def signing_secrets(conn: Connection, endpoint_id: str, now: dt.datetime) -> list[str]:
    """The secrets signing a delivery now: the current one, and the previous one in its overlap."""
    row = conn.execute(sa.select(ENDPOINTS).where(ENDPOINTS.c.id == endpoint_id)).one()
    keys = sealing.of(conn)
    found = [keys.open(row.secret, _place(endpoint_id, "secret"))]
    if row.previous_secret and row.previous_until and utc(row.previous_until) > now:
        found.append(keys.open(row.previous_secret, _place(endpoint_id, "previous_secret")))
    return found


def resealed(
    keys: sealing.Keyring, endpoint_id: str, secret: str, previous: str | None
) -> dict[str, str | None]:
    """Both secrets sealed again under the current key (`korpu keys rotate`)."""
    here, before = _place(endpoint_id, "secret"), _place(endpoint_id, "previous_secret")
    return {
        "secret": keys.seal(keys.open(secret, here), here),
        "previous_secret": previous and keys.seal(keys.open(previous, before), before),
    }


def receiving(conn: Connection, organization_id: str, event_type: str) -> list[str]:
    """The ids of the organization's endpoints that take `event_type` now (not disabled)."""
    query = sa.select(ENDPOINTS.c.id, ENDPOINTS.c.events).where(
        ENDPOINTS.c.organization_id == organization_id, ENDPOINTS.c.disabled_at.is_(None)
    )
    return [row.id for row in conn.execute(query) if not row.events or event_type in row.events]


def set_disabled(conn: Connection, endpoint_id: str, at: dt.datetime | None) -> None:
    conn.execute(ENDPOINTS.update().where(ENDPOINTS.c.id == endpoint_id).values(disabled_at=at))


def _new_secret() -> str:
    return webhooks.new_secret(secrets.token_bytes(webhooks.SECRET_BYTES))


def _endpoint(row: sa.Row[Any], now: dt.datetime) -> Endpoint:
    until = utc(row.previous_until) if row.previous_until else None
    return Endpoint(
        id=row.id,
        organization_id=row.organization_id,
        url=row.url,
        events=list(row.events),
        created_at=utc(row.created_at),
        disabled_at=utc(row.disabled_at) if row.disabled_at else None,
        previous_secret_until=until if until and until > now else None,
    )
