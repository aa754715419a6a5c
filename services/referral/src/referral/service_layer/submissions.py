"""What became of a submission, found by its Idempotency-Key: for agency systems on the bus.

An agency system on the bus may only add to the intake stream (the Redis ACLs):
the replies stream carries every organization's answers, so it cannot read it.
It learns the outcome here instead, over HTTP with its organization's key: the
referral its entry became, or the fields that made the entry refused. Rejected:
a replies stream per organization (a Redis user and ACL rule per organization
to keep in step with `korpu org`).
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from referral.adapters import audit, tables
from referral.adapters.repository import ReferralRepository


def outcome(conn: Connection, actor: audit.Actor, idempotency_key: str) -> dict[str, Any] | None:
    """The referral made with the key, else the latest refusal of an entry naming it; or None.

    A refusal names the organization the entry claimed, unverified: an accepted
    referral, which only the organization's own key or a known organization can
    make, always wins over it.
    """
    assert actor.organization_id is not None
    repository = ReferralRepository(conn)
    made = repository.idempotent(actor.organization_id, idempotency_key)
    if made is not None:
        row = repository.get(made.referral_id, actor.organization_id)
        if row is not None:
            audit.record(conn, actor, audit.VIEWED, row.id, {"by": "idempotency_key"})
            return {"outcome": "accepted", "referral_id": row.id, "status": row.status}
    rejections = tables.intake_rejections
    refused = conn.execute(
        sa.select(rejections.c.entry_id, rejections.c.errors, rejections.c.received_at)
        .where(
            rejections.c.organization_id == actor.organization_id,
            rejections.c.idempotency_key == idempotency_key,
        )
        .order_by(rejections.c.received_at.desc())
        .limit(1)
    ).first()
    if refused is None:
        return None
    # Field paths and messages only (never a value), as the replies stream had them.
    return {
        "outcome": "rejected",
        "intake_entry_id": refused.entry_id,
        "errors": list(refused.errors),
        "received_at": refused.received_at.isoformat(),
    }
