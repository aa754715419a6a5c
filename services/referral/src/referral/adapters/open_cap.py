"""The cap on one organization's open referrals: set in bootstrap, held by the database engine.

Held like the keyring (adapters/sealing.py) so that both ways in, HTTP and the
intake stream, meet it in `coordinator.submit` without a setting threaded
through each. A flood of referrals would fill the providers' waiting lists and
the operators' review with cases no one sent for real; the cap bounds what one
organization's key (or a Redis user) can do before an operator notices.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from referral.adapters import tables

OPTION = "referral_max_open_referrals"
# Far above what one agency has open at once; a national hotline may need more.
DEFAULT = 5_000


def attach(engine: Engine, cap: int) -> None:
    engine.update_execution_options(**{OPTION: cap})


def of(conn: Connection) -> int:
    cap = conn.get_execution_options().get(OPTION, DEFAULT)
    assert isinstance(cap, int)
    return cap


def reached(conn: Connection, organization_id: str) -> bool:
    """Whether the organization has as many referrals not yet closed as the cap allows.

    Two submissions racing at the cap may both pass: the cap is a brake, not an
    exact count. Rejected: a lock per organization on every submission.
    """
    referrals = tables.referrals
    open_now = conn.execute(
        sa.select(sa.func.count())
        .select_from(referrals)
        .where(referrals.c.organization_id == organization_id, referrals.c.closed_at.is_(None))
    ).scalar_one()
    return int(open_now) >= of(conn)
