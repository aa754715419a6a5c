"""The referral service's audit trail: every read and change of personal data, who, when,
which referral, what.

The trail's shape, append-only in the database itself, is the runtime's
(`korpu_runtime.audit`), its subject the referral. Nothing personal goes into a
row; the referral id says whose data it was, the action and detail say what was
done. So an erasure leaves the trail as it is: it tells that the person was read,
changed and erased, never who the person was.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.engine import Connection

from korpu_runtime import api_keys
from korpu_runtime import audit as trail
from referral.adapters import tables

TRAIL = trail.Trail(tables.audit_log, "referral_id")

# Who acts. `bus`: an agency system on the intake stream, named by the
# organization its command carries (there is no key on the bus: the Redis ACL
# user that may add to the intake stream is the credential).
API_KEY = api_keys.API_KEY
OPERATOR = trail.OPERATOR
BUS = "bus"
SYSTEM = trail.SYSTEM

# What was done. Past tense, like events: the entry tells what happened.
SUBMITTED = "referral_submitted"
VIEWED = "referral_viewed"
PERSON_VIEWED = "person_viewed"
WITHDRAWN = "referral_withdrawn"
# An intake entry that could not become a referral, kept whole (it may name a person).
INTAKE_ENTRY_KEPT = "intake_entry_kept"
# A key tried to read a case it may not see (another organization's, or one that
# does not exist): an auditor wants to know who probes for victims' cases.
ACCESS_DENIED = "access_denied"
# Consent for one purpose changed by the agency (detail: purpose, consent, changed).
CONSENT_CHANGED = "consent_changed"
# The agency said a referral linked as a duplicate is another person: coordinated.
DUPLICATE_OVERRULED = "duplicate_overruled"
# An operator said whether a referral in review for a match with another
# organization's open case is the same person (detail: resolution, the case matched).
DUPLICATE_RESOLVED = "duplicate_resolved"
# The sweep for children turning 18 read birth dates (detail: how many cases), and
# flagged one that did; it reads no more than the birth date.
BIRTH_DATES_READ = "birth_dates_read"
CONSENT_REVIEW_FLAGGED = "consent_review_flagged"


Actor = trail.Actor
operator = trail.operator
api_key = trail.api_key
of = trail.of


def record(
    conn: Connection,
    actor: Actor,
    action: str,
    referral_id: str | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    """One entry, written in the caller's transaction: no change without its record."""
    TRAIL.record(conn, actor, action, referral_id, detail)


# The national coordinator (service_layer/oversight.py): the case list viewed (detail:
# the filters' names and the cases shown), the Action needed queue viewed, one case
# viewed, an identification decision recorded, a recovery period extended.
CASES_LISTED = "cases_listed"
QUEUE_VIEWED = "action_queue_viewed"
CASE_VIEWED = "case_viewed_by_coordinator"
IDENTIFICATION_RECORDED = "identification_recorded"
RECOVERY_EXTENDED = "recovery_period_extended"
