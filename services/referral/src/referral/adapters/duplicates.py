"""Finding the open case of a person referred again, by the blind index, one submission at a time.

Across organizations: a person referred by the police and then by an NGO is one
person, and coordinating them twice would hold two beds. The second referral is
linked to the first by its id only, which tells the second organization nothing
of the first one's data: it may not read that case (404), and the id is
pseudonymous. What it does learn is that the person already has an open case,
which is what makes the second referral unnecessary.

Two submissions of one person at the same moment must not both be coordinated.
On PostgreSQL each takes a transaction-scoped advisory lock on the person's
blind index before looking, so the second looks only once the first has
committed (each statement in READ COMMITTED sees what committed before it).
SQLite takes its write lock when the transaction begins, so submissions are one
at a time already. Rejected: a unique partial index over open cases (whether a
case is open lives in `referrals`, not in `persons`, and every path closing a
case would have to clear it), and SERIALIZABLE isolation (retries everywhere).
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from korpu_contracts import intake
from referral.adapters import sealed_persons, sealing, tables
from referral.domain import model

FLAG = "possible_duplicate"
# The first of the two 32-bit advisory lock keys: duplicate checks, apart from
# the schema lock (korpu_runtime.database) and anything else taking one.
LOCK_CLASS = 0x64757031


def open_case(conn: Connection, person: intake.Person) -> str | None:
    """The earliest open case of the same person, None when there is none (or no birth date).

    Open: neither withdrawn nor closed, and some task still waiting for an
    answer or under way (`closed_at` is null). A case whose every task is final
    is over: a new referral of that person is a new request for help.
    """
    keyring = sealing.of(conn)
    key = sealed_persons.match_key(
        keyring, person.given_name, person.family_name, person.date_of_birth
    )
    if key is None:
        return None
    if conn.dialect.name == "postgresql":
        lock = int.from_bytes(bytes.fromhex(key[:8]), "big", signed=True)
        conn.execute(
            sa.text("SELECT pg_advisory_xact_lock(:kind, :key)"), {"kind": LOCK_CLASS, "key": lock}
        )
    persons, referrals = tables.persons, tables.referrals
    query = (
        sa.select(referrals.c.id)
        .join(persons, persons.c.referral_id == referrals.c.id)
        .where(
            persons.c.match_key == key,
            referrals.c.status.not_in([str(status) for status in model.ENDED_STATUSES]),
            referrals.c.closed_at.is_(None),
        )
        .order_by(referrals.c.created_at)
        .limit(1)
    )
    found: str | None = conn.execute(query).scalar()
    return found
