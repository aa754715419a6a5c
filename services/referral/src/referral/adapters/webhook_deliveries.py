"""The webhook outbox and its log: a delivery per event and endpoint, each attempt recorded.

Rows are written in the transaction that writes the event (the outbox pattern),
so an event committed is an event delivered, and one rolled back never leaves.
Senders claim due rows for a while, as the runtime's relay claims its outbox
(korpu_runtime/relay.py): replicas skip rows another holds, and a sender that
dies holding a claim delays its rows by that long.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from referral.adapters import tables
from referral.adapters import webhook_endpoints as endpoints
from referral.domain import webhooks

DELIVERIES, ATTEMPTS, ENDPOINTS = (
    tables.webhook_deliveries,
    tables.webhook_attempts,
    tables.webhook_endpoints,
)
PENDING = "pending"
# A time range redelivered at once is bounded: past it, the operator narrows the range.
REDELIVERY_LIMIT = 10_000


@dataclasses.dataclass(frozen=True)
class Due:
    """A delivery claimed for sending, with what signs it (held in memory only)."""

    id: str
    endpoint_id: str
    url: str
    message_id: str
    body: bytes
    attempts: int
    # The claim's end, which also tells this claim apart: a redelivery meanwhile clears it.
    claimed_until: dt.datetime
    secrets: list[str] = dataclasses.field(repr=False)


@dataclasses.dataclass(frozen=True)
class Attempt:
    at: dt.datetime
    status_code: int | None
    error: str | None
    duration_ms: int


def enqueue(
    conn: Connection,
    endpoint_ids: list[str],
    *,
    message_id: str,
    event_type: str,
    referral_id: str,
    body: bytes,
    now: dt.datetime,
) -> None:
    if not endpoint_ids:
        return
    rows = [
        {
            "id": str(uuid.uuid4()),
            "endpoint_id": endpoint_id,
            "message_id": message_id,
            "event_type": event_type,
            "referral_id": referral_id,
            "body": body.decode(),
            "created_at": now,
            "state": PENDING,
            "attempts": 0,
            "next_attempt_at": now,
        }
        for endpoint_id in endpoint_ids
    ]
    conn.execute(DELIVERIES.insert(), rows)


def claim(conn: Connection, owner_until: dt.datetime, now: dt.datetime, limit: int) -> list[Due]:
    """Take up to `limit` deliveries due now until `owner_until`; each with its signing secrets."""
    d = DELIVERIES.c
    query = (
        sa.select(d.id, d.endpoint_id, d.message_id, d.body, d.attempts, ENDPOINTS.c.url)
        .join(ENDPOINTS, ENDPOINTS.c.id == d.endpoint_id)
        .where(
            d.state == PENDING,
            d.next_attempt_at <= now,
            ENDPOINTS.c.disabled_at.is_(None),
            sa.or_(d.claimed_until.is_(None), d.claimed_until < now),
        )
        .order_by(d.next_attempt_at, d.id)
        .limit(limit)
        # PostgreSQL: replicas claiming at once take different rows; SQLite ignores it.
        .with_for_update(skip_locked=True, of=DELIVERIES)
    )
    rows = list(conn.execute(query))
    if not rows:
        return []
    conn.execute(
        DELIVERIES.update()
        .where(d.id.in_([row.id for row in rows]))
        .values(claimed_until=owner_until)
    )
    secrets = {
        endpoint_id: endpoints.signing_secrets(conn, endpoint_id, now)
        for endpoint_id in {row.endpoint_id for row in rows}
    }
    return [
        Due(row.id, row.endpoint_id, row.url, row.message_id, row.body.encode(),
            row.attempts, owner_until, secrets[row.endpoint_id])
        for row in rows
    ]  # fmt: skip


def record(conn: Connection, due: Due, attempt: Attempt, after: webhooks.Next) -> None:
    """The attempt in the log and what follows it: delivered, retried, failed or gone.

    The state changes only while this sender's claim holds: a redelivery asked for
    during the attempt has started the schedule again, and stays asked for.
    """
    exists = sa.select(DELIVERIES.c.id).where(DELIVERIES.c.id == due.id)
    if conn.execute(exists).first() is None:
        return  # its endpoint was removed while it was being sent: nothing left to log
    conn.execute(
        ATTEMPTS.insert().values(
            delivery_id=due.id,
            attempted_at=attempt.at,
            status_code=attempt.status_code,
            error=attempt.error,
            duration_ms=attempt.duration_ms,
        )
    )
    retrying = after.verdict is webhooks.Verdict.RETRY
    # Counted from the answer, not the start: a Retry-After means from when it was said.
    answered = attempt.at + dt.timedelta(milliseconds=attempt.duration_ms)
    wait = dt.timedelta(seconds=after.wait_seconds or 0)
    updated = conn.execute(
        DELIVERIES.update()
        .where(DELIVERIES.c.id == due.id, DELIVERIES.c.claimed_until == due.claimed_until)
        .values(
            state=PENDING if retrying else str(after.verdict),
            attempts=DELIVERIES.c.attempts + 1,
            next_attempt_at=answered + wait if retrying else None,
            claimed_until=None,
        )
    )
    if updated.rowcount and after.verdict is webhooks.Verdict.GONE:
        endpoints.set_disabled(conn, due.endpoint_id, attempt.at)


def log(conn: Connection, endpoint_id: str, limit: int = 100) -> list[dict[str, Any]]:
    """The endpoint's newest deliveries, each with its attempts, oldest attempt first."""
    d = DELIVERIES.c
    rows = list(
        conn.execute(
            sa.select(DELIVERIES)
            .where(d.endpoint_id == endpoint_id)
            .order_by(d.created_at.desc(), d.id)
            .limit(limit)
        )
    )
    attempts: dict[str, list[dict[str, Any]]] = {row.id: [] for row in rows}
    if rows:
        query = (
            sa.select(ATTEMPTS)
            .where(ATTEMPTS.c.delivery_id.in_(list(attempts)))
            .order_by(ATTEMPTS.c.id)
        )
        for a in conn.execute(query):
            attempts[a.delivery_id].append(
                {"at": endpoints.utc(a.attempted_at).isoformat(), "status_code": a.status_code,
                 "error": a.error, "duration_ms": a.duration_ms}
            )  # fmt: skip
    return [_shown(row, attempts[row.id]) for row in rows]


def _shown(row: sa.Row[Any], attempts: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "id": row.id,
        "message_id": row.message_id,
        "event_type": row.event_type,
        "referral_id": row.referral_id,
        "created_at": endpoints.utc(row.created_at).isoformat(),
        "state": row.state,
        "next_attempt_at": row.next_attempt_at and endpoints.utc(row.next_attempt_at).isoformat(),
        "attempts": attempts,
    }


def endpoint_of(conn: Connection, delivery_id: str) -> str | None:
    query = sa.select(DELIVERIES.c.endpoint_id).where(DELIVERIES.c.id == delivery_id)
    found: str | None = conn.execute(query).scalar_one_or_none()
    return found


def redeliver(
    conn: Connection,
    now: dt.datetime,
    *,
    delivery_id: str | None = None,
    endpoint_id: str | None = None,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
) -> int:
    """Send again, from the start of the schedule: one delivery, or an endpoint's made in
    [since, until). The message keeps its `webhook-id`, so a receiver that had it already
    can tell. Returns how many are due again."""
    d = DELIVERIES.c
    chosen = sa.select(d.id)
    if delivery_id is not None:
        chosen = chosen.where(d.id == delivery_id)
    else:
        chosen = chosen.where(d.endpoint_id == endpoint_id)
        if since is not None:
            chosen = chosen.where(d.created_at >= since)
        if until is not None:
            chosen = chosen.where(d.created_at < until)
    ids = list(conn.execute(chosen.limit(REDELIVERY_LIMIT)).scalars())
    if ids:
        conn.execute(
            DELIVERIES.update()
            .where(d.id.in_(ids))
            .values(state=PENDING, attempts=0, next_attempt_at=now, claimed_until=None)
        )
    return len(ids)


def prune(conn: Connection, before: dt.datetime, limit: int = 1000) -> int:
    """Forget up to `limit` finished deliveries made before `before`, with their attempts;
    how many. Pending ones stay whatever their age: they are still owed."""
    d = DELIVERIES.c
    ids = list(
        conn.execute(
            sa.select(d.id).where(d.state != PENDING, d.created_at < before).limit(limit)
        ).scalars()
    )
    if ids:
        conn.execute(ATTEMPTS.delete().where(ATTEMPTS.c.delivery_id.in_(ids)))
        conn.execute(DELIVERIES.delete().where(d.id.in_(ids)))
    return len(ids)
