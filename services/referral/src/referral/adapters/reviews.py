"""The operators' queue of referrals in review: a person matched to another organization's case.

One row per referral waiting (status `in_review`), naming the case it matched
and how strongly; never read for an agency (service_layer/duplicate_review.py).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from korpu_contracts.vocabulary import ReferralStatus
from referral.adapters import duplicates, tables

KIND = "possible_match"  # what a cross-organization match waits in review for


def raise_review(conn: Connection, referral_id: str, match: duplicates.Match) -> None:
    conn.execute(
        tables.reviews.insert().values(
            referral_id=referral_id,
            kind=KIND,
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
