"""The audit trail: every read and change of personal data, who, when, which referral, what.

Append-only: rows are only ever inserted. Nothing personal goes into a row; the
referral id says whose data it was, the action and detail say what was done.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from sqlalchemy.engine import Connection

from referral.adapters import tables
from referral.adapters.repository import now


@dataclasses.dataclass(frozen=True)
class Actor:
    """Who acted: an API key (its id and organization) or an operator at the CLI."""

    kind: str  # "api_key" or "operator"
    id: str  # the key's id, or the operator's login and host
    organization_id: str | None = None


def record(
    conn: Connection,
    actor: Actor,
    action: str,
    referral_id: str | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    """One entry, written in the caller's transaction: no change without its record."""
    conn.execute(
        tables.audit_log.insert().values(
            at=now(),
            actor_kind=actor.kind,
            actor_id=actor.id,
            organization_id=actor.organization_id,
            referral_id=referral_id,
            action=action,
            detail=detail or {},
        )
    )
