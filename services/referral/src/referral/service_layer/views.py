"""What an agency reads about its referral: status, each service's answer, the history."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from referral.adapters import recognition
from referral.adapters.repository import ReferralRepository


def referral_view(
    conn: Connection, organization_id: str, referral_id: str
) -> dict[str, Any] | None:
    """None for a referral that does not exist or belongs to another organization."""
    repository = ReferralRepository(conn)
    row = repository.get(referral_id, organization_id)
    if row is None:
        return None
    return case_view(repository, row)


def case_view(repository: ReferralRepository, row: sa.Row[Any]) -> dict[str, Any]:
    """The case as its organization sees it: what the national coordinator sees too."""
    referral_id = row.id
    return {
        "id": row.id,
        "agency_reference": row.agency_reference,
        "status": row.status,
        # When every task became final (the retention period runs from then), and
        # when the person's data was erased: the case stays readable without them.
        "closed_at": _iso(row.closed_at),
        "erased_at": _iso(row.erased_at),
        # Recorded by the national coordinator: the competent authority's decision, and
        # the last day of the recovery and reflection period (docs/domain.md).
        **recognition.shown(row),
        "services": {
            str(task.service): {
                "status": str(task.status),
                "reason": None if task.reason is None else str(task.reason),
                "detail": task.detail,
            }
            for task in repository.tasks(referral_id).values()
        },
        "consent": {
            str(purpose): str(consent)
            for purpose, consent in repository.consents(referral_id).items()
        },
        "flags": [
            {
                "kind": flag.kind,
                "related_referral_id": flag.related_referral_id,
                "raised_at": _iso(flag.raised_at),
                "resolved_at": _iso(flag.resolved_at),
            }
            for flag in repository.flags(referral_id)
        ],
        "history": [
            {
                "at": _iso(entry.at),
                "service": entry.service,
                "status": entry.status,
                "reason": entry.reason,
                # Set on a consent change (status `consent_changed`), null otherwise.
                "purpose": entry.purpose,
                "consent": entry.consent,
            }
            for entry in repository.history(referral_id)
        ],
    }


def _iso(at: dt.datetime | None) -> str | None:
    # SQLite hands back naive datetimes; every time stored is UTC.
    if at is None:
        return None
    return (at if at.tzinfo else at.replace(tzinfo=dt.UTC)).isoformat()
