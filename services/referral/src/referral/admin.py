"""What the operators' command line may ask of the referral service: its one door in.

`korpu` calls these, never the service's adapters; each opens the service's
database as the running service would (migrated, with its keyring) and answers
plain values, never a secret or a person.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy.engine import Connection

from referral import bootstrap
from referral.adapters import tables, webhook_deliveries, webhook_endpoints

T = TypeVar("T")


class NotFound(LookupError):
    """No such organization, endpoint or delivery."""


def webhook_endpoints_of(organization_id: str) -> list[dict[str, Any]]:
    """`korpu webhooks list ORG`: the organization's endpoints, never their secrets."""

    def read(conn: Connection) -> list[dict[str, Any]]:
        found = webhook_endpoints.listed(conn, organization_id)
        return [{**endpoint.shown(), "organization_id": organization_id} for endpoint in found]

    return _in_database(read)


def webhook_log(endpoint_id: str) -> list[dict[str, Any]]:
    """`korpu webhooks deliveries ENDPOINT`: the newest deliveries with every attempt."""

    def read(conn: Connection) -> list[dict[str, Any]]:
        if webhook_endpoints.find(conn, endpoint_id) is None:
            raise NotFound(f"no webhook endpoint {endpoint_id}")
        return webhook_deliveries.log(conn, endpoint_id)

    return _in_database(read)


def redeliver_one(delivery_id: str) -> str:
    """Send one delivery again from the start of the schedule; returns its endpoint's id."""

    def work(conn: Connection) -> str:
        endpoint_id = webhook_deliveries.endpoint_of(conn, delivery_id)
        if endpoint_id is None:
            raise NotFound(f"no webhook delivery {delivery_id}")
        _enable(conn, endpoint_id)
        webhook_deliveries.redeliver(conn, _now(), delivery_id=delivery_id)
        return endpoint_id

    return _in_database(work)


def redeliver_range(endpoint_id: str, since: dt.datetime, until: dt.datetime | None) -> int:
    """Send again every delivery of the endpoint made in [since, until); how many."""

    def work(conn: Connection) -> int:
        if webhook_endpoints.find(conn, endpoint_id) is None:
            raise NotFound(f"no webhook endpoint {endpoint_id}")
        _enable(conn, endpoint_id)
        return webhook_deliveries.redeliver(
            conn, _now(), endpoint_id=endpoint_id, since=since, until=until
        )

    return _in_database(work)


def _enable(conn: Connection, endpoint_id: str) -> None:
    # An endpoint disabled by a 410 is enabled again by a redelivery: the operator
    # asks for one when the agency says its receiver is back. Rejected: a separate
    # `enable` step, which a redelivery to a disabled endpoint would silently wait on.
    webhook_endpoints.set_disabled(conn, endpoint_id, None)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _in_database(work: Callable[[Connection], T]) -> T:
    database = bootstrap.database(bootstrap.Settings())
    try:
        database.create_schema(tables.metadata)
        return database.transaction(work)
    finally:
        database.close()
