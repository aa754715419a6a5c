"""Erasing a person: at once on a prosecutor's or court decision, or when retention ends.

Only the personal data goes (adapters/erasure.py). The tasks stay as they are:
a decision ending access to a victim's data does not end their assistance, and
the providers hold nothing personal to erase (coarse attributes only).
Rejected: cancelling open tasks on erasure, which would take a bed away from a
person because their file was closed.

The history shows an `erased` step with the basis only (`erasure_order` or
`retention_expired`): agencies and providers read the history. The decision's
own words go to the audit trail, where the operator who typed them is named,
and only after checking they do not name the person: the trail is append-only
and outlives the data it tells of.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from enum import StrEnum

from sqlalchemy.engine import Connection

from referral.adapters import audit, erasure
from referral.adapters.repository import ReferralRepository, now
from referral.domain import matching

ERASED = erasure.ERASED  # the history step
PERSON_ERASED = "person_erased"  # the audit action, past tense like the others


class Basis(StrEnum):
    ORDER = "erasure_order"  # a prosecutor's or court decision, `korpu erase`
    RETENTION = "retention_expired"  # closed for longer than the retention period


class UnknownReferral(LookupError):
    """No referral has this id."""


class ReasonNamesThePerson(ValueError):
    """The reason given would write the person's name into the audit trail."""


@dataclasses.dataclass(frozen=True)
class Erased:
    referral_id: str
    erased_at: dt.datetime
    # True when it had been erased before: nothing was done this time.
    before: bool = False


def erase(
    conn: Connection,
    referral_id: str,
    basis: Basis,
    actor: audit.Actor,
    reason: str | None = None,
) -> Erased:
    """Erase the referral's personal data in this transaction, with its history step and audit."""
    repository = ReferralRepository(conn)
    row = repository.get(referral_id, lock=True)
    if row is None:
        raise UnknownReferral(referral_id)
    if row.erased_at is not None:
        return Erased(referral_id, _utc(row.erased_at), before=True)
    if reason is not None and _names_the_person(reason, repository.person(referral_id)):
        raise ReasonNamesThePerson
    at = now()
    erasure.remove_personal_data(conn, referral_id)
    erasure.mark_erased(conn, referral_id, basis, at)
    detail: dict[str, object] = {"basis": str(basis)}
    if reason is not None:
        detail["reason"] = reason
    audit.record(conn, actor, PERSON_ERASED, referral_id=referral_id, detail=detail)
    return Erased(referral_id, at)


def erase_due(
    conn: Connection, retention: dt.timedelta, actor: audit.Actor, limit: int = 100
) -> list[str]:
    """Erase up to `limit` referrals closed for longer than `retention`; their ids."""
    due = erasure.due(conn, now() - retention, limit)
    for referral_id in due:
        erase(conn, referral_id, Basis.RETENTION, actor)
    return due


def _names_the_person(reason: str, person: dict[str, object] | None) -> bool:
    """Whether a word of the person's given or family name is a word of `reason`."""
    if person is None:
        return False
    names = " ".join(str(person.get(field) or "") for field in ("given_name", "family_name"))
    return bool(_words(names) & _words(reason))


def _words(text: str) -> set[str]:
    # Folded as duplicates are matched (Məmmədova and Memmedova are one name);
    # words of two letters or more: initials alone ("A. M.") are no name.
    return set(re.findall(r"\w{2,}", matching.fold(text)))


def _utc(at: dt.datetime) -> dt.datetime:
    return at if at.tzinfo else at.replace(tzinfo=dt.UTC)
