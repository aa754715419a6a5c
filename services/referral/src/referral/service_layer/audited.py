"""Agencies' reads and changes of a case, each recorded in the audit trail in the same transaction.

The entrypoints call these, never the coordinator or the views directly, so no
way in forgets the record. Rejected: recording in the coordinator (its handlers
also run for providers' answers, which are not an agency's access), and a
middleware (it would record after the transaction, so a crash between the two
would leave an access unrecorded).

A refused access to a case (404: another organization's referral, or none) is
recorded too, as `access_denied`: a key probing for victims' cases is what an
auditor looks for. A refused key (401) is not: there is no one to name, and
letting anyone on the network add rows to a table that can never be pruned
would let them fill the disk.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.engine import Connection

from korpu_contracts import intake
from korpu_runtime.unit_of_work import UnitOfWork
from referral.adapters import audit
from referral.adapters.repository import ReferralRepository
from referral.service_layer import coordinator, views

# What a refused access was refused for; never the text the caller sent.
OTHER_ORGANIZATION = "other_organization"
NO_SUCH_REFERRAL = "no_such_referral"
ERASED = "erased"
MISSING_SCOPE = "missing_scope"
PERSON_FIELDS = tuple(intake.Person.model_fields)


def submit(
    uow: UnitOfWork,
    actor: audit.Actor,
    organization_id: str,
    idempotency_key: str,
    body_hash: str,
    request: intake.ReferralRequest,
    detail: dict[str, Any] | None = None,
) -> coordinator.Submitted:
    """Register a referral; a replay (which stores and shows no one) records nothing."""
    submitted = coordinator.submit(uow, organization_id, idempotency_key, body_hash, request)
    if submitted.created:
        audit.record(uow.conn, actor, audit.SUBMITTED, submitted.referral_id, detail)
    return submitted


def view(conn: Connection, actor: audit.Actor, referral_id: str) -> dict[str, Any] | None:
    """The case as its organization sees it, recorded: it tells where the person is placed."""
    assert actor.organization_id is not None
    found = views.referral_view(conn, actor.organization_id, referral_id)
    if found is None:
        denied(conn, actor, referral_id)
    else:
        audit.record(conn, actor, audit.VIEWED, referral_id)
    return found


def person(conn: Connection, actor: audit.Actor, referral_id: str) -> dict[str, Any] | None:
    """The person the organization referred, as it sent them; None when not its own or erased."""
    assert actor.organization_id is not None
    repository = ReferralRepository(conn)
    if repository.get(referral_id, actor.organization_id) is None:
        denied(conn, actor, referral_id)
        return None
    stored = repository.person(referral_id)
    if stored is None:
        audit.record(conn, actor, audit.ACCESS_DENIED, referral_id, {"reason": ERASED})
        return None
    audit.record(conn, actor, audit.PERSON_VIEWED, referral_id)
    return {
        "id": referral_id,
        "person": {name: stored.get(name) for name in PERSON_FIELDS},
        "circumstances": stored.get("circumstances"),
        "notes": stored.get("notes"),
    }


def withdraw(uow: UnitOfWork, actor: audit.Actor, referral_id: str) -> bool:
    """Cancel every open task, recorded; False (and a refusal recorded) if not its own."""
    assert actor.organization_id is not None
    found = coordinator.withdraw(uow, actor.organization_id, referral_id)
    if found:
        audit.record(uow.conn, actor, audit.WITHDRAWN, referral_id)
    else:
        denied(uow.conn, actor, referral_id)
    return found


def denied(conn: Connection, actor: audit.Actor, referral_id: str) -> None:
    """A case refused (404), naming the referral only when it is one (the path is free text)."""
    known = _referral_id(referral_id)
    exists = known is not None and ReferralRepository(conn).get(known) is not None
    reason = OTHER_ORGANIZATION if exists else NO_SUCH_REFERRAL
    audit.record(conn, actor, audit.ACCESS_DENIED, known, {"reason": reason})


def lacking_scope(
    conn: Connection, actor: audit.Actor, scope: str, referral_id: str | None
) -> None:
    """A key refused (403) for want of a scope, e.g. a submit-only key asking for a person."""
    detail = {"reason": MISSING_SCOPE, "scope": scope}
    audit.record(conn, actor, audit.ACCESS_DENIED, _referral_id(referral_id), detail)


def _referral_id(text: str | None) -> str | None:
    # Only a well-formed id goes into the trail: whatever else was typed in the
    # path (a name, even) is not stored. Rejected: storing it cut short.
    if text is None:
        return None
    try:
        canonical = str(uuid.UUID(text))
    except ValueError:
        return None
    return canonical if canonical == text else None
