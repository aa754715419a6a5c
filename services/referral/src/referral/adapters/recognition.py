"""A case's identification and recovery period as stored, and the period's default length.

The default length is set in bootstrap and held by the database engine, as the
open-referrals cap is (adapters/open_cap.py), so both ways in, HTTP and the
intake stream, give a new case its period without a setting threaded through each.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from korpu_contracts.vocabulary import Identification
from referral.adapters import tables
from referral.domain import recognition

OPTION = "referral_recovery_period_days"


def attach(engine: Engine, days: int) -> None:
    engine.update_execution_options(**{OPTION: days})


def period_days(conn: Connection) -> int:
    days = conn.get_execution_options().get(OPTION, recognition.RECOVERY_DAYS)
    assert isinstance(days, int)
    return days


@dataclass(frozen=True)
class Extension:
    days: int
    reason: str
    ends_on: dt.date
    extended_at: dt.datetime


def set_identification(
    conn: Connection, referral_id: str, status: Identification, decided_on: dt.date
) -> None:
    referrals = tables.referrals
    conn.execute(
        referrals.update()
        .where(referrals.c.id == referral_id)
        .values(identification=str(status), identification_decided_on=decided_on)
    )


def extend(conn: Connection, referral_id: str, days: int, reason: str, ends_on: dt.date) -> None:
    referrals = tables.referrals
    conn.execute(
        referrals.update().where(referrals.c.id == referral_id).values(recovery_ends_on=ends_on)
    )
    conn.execute(
        tables.recovery_extensions.insert().values(
            referral_id=referral_id,
            days=days,
            reason=reason,
            ends_on=ends_on,
            extended_at=dt.datetime.now(dt.UTC),
        )
    )


def extensions(conn: Connection, referral_id: str) -> list[Extension]:
    c = tables.recovery_extensions.c
    query = sa.select(c.days, c.reason, c.ends_on, c.extended_at).where(
        c.referral_id == referral_id
    )
    return [Extension(*row) for row in conn.execute(query.order_by(c.id))]


def shown(row: sa.Row[Any]) -> dict[str, Any]:
    """The case's identification and recovery period as every view shows them."""
    decided = row.identification_decided_on
    ends_on = row.recovery_ends_on
    return {
        "identification": {
            "status": row.identification,
            "decided_on": None if decided is None else decided.isoformat(),
        },
        "recovery_period": {"ends_on": None if ends_on is None else ends_on.isoformat()},
    }
