"""Finding the open case of a person referred again, by the blind index, one submission at a time.

Within one organization the new referral is linked to its own open case, which
it may see anyway. Across organizations the match is an operator's to decide
(service_layer/duplicate_review.py): the submitting organization must learn
nothing of a case that is not its own, not even that there is one, so the
review row lives here and is never shown to it.

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

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from korpu_contracts import intake
from korpu_contracts.vocabulary import ReferralStatus
from referral.adapters import sealed_persons, sealing, tables
from referral.domain import matching, model

FLAG = "possible_duplicate"
REVIEW = "possible_match"  # the kind of review a cross-organization match waits in
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
    persons, referrals = tables.persons, tables.referrals
    own_first = sa.case((referrals.c.organization_id == organization_id, 0), else_=1)
    query = (
        sa.select(referrals.c.id, referrals.c.organization_id, referrals.c.sex, referrals.c.region)
        .join(persons, persons.c.referral_id == referrals.c.id)
        .where(
            persons.c.match_key == key,
            referrals.c.status.not_in([str(status) for status in model.ENDED_STATUSES]),
            referrals.c.closed_at.is_(None),
        )
        .order_by(own_first, referrals.c.created_at)
        .limit(1)
    )
    found = conn.execute(query).first()
    if found is None:
        return None
    agree = (found.sex == person.sex) + (found.region == request.region)
    return Match(found.id, found.organization_id, ("weak", "medium", "strong")[agree])


# The operators' review of a match across organizations -------------------------------


def raise_review(conn: Connection, referral_id: str, match: Match) -> None:
    conn.execute(
        tables.reviews.insert().values(
            referral_id=referral_id,
            kind=REVIEW,
            related_referral_id=match.referral_id,
            strength=match.strength,
            raised_at=dt.datetime.now(dt.UTC),
        )
    )


@dataclass(frozen=True)
class Pending:
    referral_id: str
    organization: str
    related_referral_id: str | None
    related_organization: str | None
    strength: str
    raised_at: dt.datetime
    # `waiting`, the operator's resolution, or `withdrawn` by its organization meanwhile.
    state: str = "waiting"


def pending(conn: Connection, everything: bool = False) -> list[Pending]:
    """Every review whose referral still waits, oldest first; `everything`: decided ones too.

    Decided ones show how each ended, withdrawn ones included: an organization
    that sends people to see which wait, then withdraws them, is probing.
    """
    reviews, referrals, organizations = tables.reviews, tables.referrals, tables.organizations
    related = referrals.alias("related")
    related_organization = organizations.alias("related_organization")
    waiting = referrals.c.status == str(ReferralStatus.IN_REVIEW)
    state = sa.case(
        (reviews.c.resolution.is_not(None), reviews.c.resolution),
        (waiting, "waiting"),
        else_=referrals.c.status,
    )
    query = (
        sa.select(
            reviews.c.referral_id,
            organizations.c.name,
            reviews.c.related_referral_id,
            related_organization.c.name.label("related_name"),
            reviews.c.strength,
            reviews.c.raised_at,
            state,
        )
        .join(referrals, referrals.c.id == reviews.c.referral_id)
        .join(organizations, organizations.c.id == referrals.c.organization_id)
        .outerjoin(related, related.c.id == reviews.c.related_referral_id)
        .outerjoin(related_organization, related_organization.c.id == related.c.organization_id)
        .order_by(reviews.c.raised_at, reviews.c.referral_id)
    )
    if not everything:
        query = query.where(reviews.c.resolved_at.is_(None), waiting)
    return [Pending(*row) for row in conn.execute(query)]


def review_of(conn: Connection, referral_id: str) -> sa.Row[Any] | None:
    reviews = tables.reviews
    return conn.execute(sa.select(reviews).where(reviews.c.referral_id == referral_id)).first()


def resolve(conn: Connection, referral_id: str, resolution: str) -> None:
    reviews = tables.reviews
    conn.execute(
        reviews.update()
        .where(reviews.c.referral_id == referral_id, reviews.c.resolved_at.is_(None))
        .values(resolved_at=dt.datetime.now(dt.UTC), resolution=resolution)
    )


# Re-indexing stored persons when the folding changes ----------------------------------


def index_is_current(conn: Connection) -> bool:
    versions = tables.match_index_versions
    found = conn.execute(
        sa.select(versions.c.version).where(versions.c.version == matching.INDEX_VERSION)
    ).first()
    return found is not None


def reindex_batch(conn: Connection, after: str, batch: int) -> tuple[str | None, int]:
    """Compute again the blind index of up to `batch` persons after id `after`.

    Returns the last id looked at (None when there were no more) and how many
    indexes changed. Only a row still as read is written: an erasure meanwhile wins.
    """
    persons = tables.persons
    keyring = sealing.of(conn)
    sealed = ("given_name", "family_name", "date_of_birth")
    rows = conn.execute(
        sa.select(persons.c.referral_id, persons.c.match_key, *(persons.c[n] for n in sealed))
        .where(persons.c.referral_id > after)
        .order_by(persons.c.referral_id)
        .limit(batch)
    ).all()
    changed = 0
    for row in rows:
        try:
            opened = {
                name: keyring.open(row._mapping[name], sealed_persons.place(row.referral_id, name))
                for name in sealed
                if row._mapping[name] is not None
            }
        except sealing.CannotOpen:
            # Under a key no longer configured, or altered: no one can match it
            # anyway, and `korpu keys rotate` names it. Left as it is.
            continue
        born = opened.get("date_of_birth")
        key = sealed_persons.match_key(
            keyring,
            _text(opened["given_name"]),
            _text(opened["family_name"]),
            None if born is None else dt.date.fromisoformat(_text(born)),
        )
        if key == row.match_key:
            continue
        changed += conn.execute(
            persons.update()
            .where(
                persons.c.referral_id == row.referral_id,
                persons.c.match_key.is_not_distinct_from(row.match_key),
            )
            .values(match_key=key)
        ).rowcount
    return (rows[-1].referral_id if rows else None), changed


def mark_index_current(conn: Connection, reindexed: int) -> None:
    """Record that every stored index is of this version; a second replica's record is kept."""
    insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
    conn.execute(
        insert(tables.match_index_versions)
        .values(
            version=matching.INDEX_VERSION,
            completed_at=dt.datetime.now(dt.UTC),
            reindexed=reindexed,
        )
        .on_conflict_do_nothing()
    )


def _text(sealed_json: str) -> str:
    value = json.loads(sealed_json)
    assert isinstance(value, str)
    return value
