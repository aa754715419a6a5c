"""Finding the open case of a person referred again, by the blind index, one submission at a time.

Within one organization the new referral is linked to its own open case, which
it may see anyway. Across organizations the match is an operator's to decide
(service_layer/duplicate_review.py): the submitting organization must learn
nothing of a case that is not its own, not even that there is one, so the
match goes to the operators' queue (adapters/reviews.py), never shown to it.

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

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from korpu_contracts import intake, regions
from referral.adapters import match_index, sealed_persons, sealing, tables
from referral.domain import model

FLAG = "possible_duplicate"
# The first of the two 32-bit advisory lock keys: duplicate checks, apart from
# the schema lock (korpu_runtime.database) and anything else taking one.
LOCK_CLASS = 0x64757031


@dataclass(frozen=True)
class Match:
    referral_id: str
    organization_id: str
    # Name and birth date always agree; beside them: `strong` when sex and region
    # agree too, `medium` when one does, `weak` when neither (moved, or not the
    # same person). For the operator only.
    strength: str


# Databases (by URL) whose indexes were seen current: once current, always (a newer
# build only ever raises the version), so the submission path asks once per process.
_CURRENT: set[str] = set()


def _index_current(conn: Connection) -> bool:
    where = conn.engine.url.render_as_string(hide_password=True)
    if where not in _CURRENT and match_index.index_is_current(conn):
        _CURRENT.add(where)
    return where in _CURRENT


def open_case(
    conn: Connection, organization_id: str, request: intake.ReferralRequest
) -> Match | None:
    """The open case of the same person: the organization's own first, else the earliest.

    Open: neither withdrawn nor closed, and some task still waiting for an
    answer or under way (`closed_at` is null); a referral waiting in review is
    open too. A case whose every task is final is over: a new referral of that
    person is a new request for help. None when there is none (or no birth date).
    """
    person = request.person
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
    keys = [key]
    if not _index_current(conn):
        # Just upgraded: stored persons are being indexed again; until then a
        # person's first referral may still hold the older folding's index.
        keys += sealed_persons.match_keys_before(
            keyring, person.given_name, person.family_name, person.date_of_birth
        )
    persons, referrals = tables.persons, tables.referrals
    own_first = sa.case((referrals.c.organization_id == organization_id, 0), else_=1)
    query = (
        sa.select(referrals.c.id, referrals.c.organization_id, referrals.c.sex, referrals.c.region)
        .join(persons, persons.c.referral_id == referrals.c.id)
        .where(
            persons.c.match_key.in_(keys),
            referrals.c.status.not_in([str(status) for status in model.ENDED_STATUSES]),
            referrals.c.closed_at.is_(None),
        )
        .order_by(own_first, referrals.c.created_at)
        .limit(1)
    )
    found = conn.execute(query).first()
    if found is None:
        return None
    # A case stored before regions were codes holds the name: read as its code.
    same_region = regions.code_or_as_sent(found.region) == request.region
    agree = (found.sex == person.sex) + same_region
    return Match(found.id, found.organization_id, ("weak", "medium", "strong")[agree])
