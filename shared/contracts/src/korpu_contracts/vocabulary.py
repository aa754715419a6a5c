"""Closed vocabularies shared by the HTTP contract and the events (README, docs/domain.md)."""

from __future__ import annotations

from enum import StrEnum


# The kinds of help Körpü coordinates, one provider service each: THE list of services.
#
# Everything naming a provider derives from this list: its streams and consumer group
# (`streams.requests`, `updates`, `group`), consent purposes (`Purpose`), the AsyncAPI
# document, the CLI's catalog (`korpu.catalog`), its Redis user, its database, its
# compose service and its default HTTP port (8081 + its place here). What cannot be
# derived at import time is written by `korpu generate` (docs/adding-a-provider.md).
#
# One line per provider: `NAME = "name", "seed key"`. The name is its package under
# `services/`, its Redis user, database and stream segment, so it never changes once
# deployed; the seed key is its section of a seed file (`korpu seed`). Add a new one at
# the end: the place in the list gives the port. (No docstring: it would land in the
# published schemas.)
class Service(StrEnum):
    seed_key: str

    def __new__(cls, name: str, seed_key: str = "") -> Service:
        # Called once per line, as the class is made (`Service("shelter")` later looks
        # a member up); the default only lets a type checker read such a lookup.
        if not seed_key:
            raise ValueError(f"the provider {name!r} needs its seed key")
        member = str.__new__(cls, name)
        member._value_ = name
        member.seed_key = seed_key
        return member

    SHELTER = "shelter", "shelters"
    EMPLOYMENT = "employment", "programs"
    LEGAL_AID = "legal_aid", "lawyers"
    PSYCHOLOGICAL = "psychological", "counsellors"
    MEDICAL = "medical", "clinics"
    MATERIAL_ASSISTANCE = "material_assistance", "funds"


# The service that houses the person, and the services whose help is given where the
# person is housed: they are asked once the housing service has answered, for the
# region it housed the person in (docs/domain.md, "Where help is given"). A service
# added later joins FOLLOWS_HOUSING when its help is given in person.
HOUSING = Service.SHELTER
FOLLOWS_HOUSING = frozenset(
    {Service.EMPLOYMENT, Service.LEGAL_AID, Service.PSYCHOLOGICAL, Service.MEDICAL}
)


class ActionNeeded(StrEnum):
    """Why a case is in the national coordinator's Action needed queue (and escalated)."""

    # A task its provider has not answered within the service's response deadline.
    TASK_OVERDUE = "task_overdue"
    # A person at high risk whom the housing service has put on its waitlist.
    HIGH_RISK_WAITING = "high_risk_waiting"
    # A task on a waitlist for longer than a band (a month, three months).
    WAITLIST_BAND = "waitlist_band"
    # A person matched to another organization's open case, waiting for a decision.
    POSSIBLE_DUPLICATE = "possible_duplicate"
    # A child who turned 18 with the case open: consent must be asked again.
    COMING_OF_AGE = "coming_of_age"
    # The recovery and reflection period ends within days.
    RECOVERY_ENDING = "recovery_ending"


class Identification(StrEnum):
    """A case's identification as a victim of trafficking, as the competent authority decided.

    `potential` until the decision is recorded by the national coordinator.
    """

    POTENTIAL = "potential"
    IDENTIFIED = "identified"
    NOT_IDENTIFIED = "not_identified"


class Sex(StrEnum):
    FEMALE = "female"
    MALE = "male"
    OTHER = "other"
    UNKNOWN = "unknown"


class Consent(StrEnum):
    GRANTED = "granted"
    REFUSED = "refused"
    WITHDRAWN = "withdrawn"
    NOT_REQUIRED_CHILD = "not_required_child"


class Purpose(StrEnum):
    """What consent is given for (docs/domain.md: per receiving service and purpose).

    Each service, plus `reporting`: counting the case in published statistics.
    Kept apart from `Service` so that a purpose never becomes a task.
    """

    # One member per service, of the same name and value, made from `Service` (so a
    # provider is added in one place); spell one `Purpose(Service.SHELTER)`.

    _ignore_ = "purposes service"
    purposes = vars()
    for service in Service:
        purposes[service.name] = service.value
    REPORTING = "reporting"


class Flag(StrEnum):
    """What a case worker must look at on a referral (the referral view's `flags`)."""

    # The same person referred again while a case is open: linked to that case.
    POSSIBLE_DUPLICATE = "possible_duplicate"
    # A child turned 18 while the case was open: the person must now consent themselves.
    CONSENT_REVIEW_DUE = "consent_review_due"


class TaskStatus(StrEnum):
    """After HL7 FHIR SDOH closed-loop referrals."""

    REQUESTED = "requested"
    ACCEPTED = "accepted"
    ON_HOLD = "on-hold"
    REJECTED = "rejected"
    IN_PROGRESS = "in-progress"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    FAILED = "failed"


# A task in one of these states never changes again.
FINAL_TASK_STATUSES = frozenset(
    {TaskStatus.REJECTED, TaskStatus.COMPLETED, TaskStatus.CANCELLED, TaskStatus.FAILED}
)


class Reason(StrEnum):
    NO_CAPACITY = "no_capacity"
    NOT_ELIGIBLE = "not_eligible"
    OUT_OF_SERVICE_AREA = "out_of_service_area"
    CONSENT_MISSING = "consent_missing"
    CLIENT_DECLINED = "client_declined"
    PROVIDER_DECLINED = "provider_declined"
    WITHDRAWN = "withdrawn"
    OTHER = "other"
    # Added after version 1 of the events (tolerant: an older reader takes it as `other`).
    # The person did not arrive and could not be reached (a case worker's `not-arrived`).
    CLIENT_UNREACHABLE = "client_unreachable"


class ReferralStatus(StrEnum):
    RECEIVED = "received"
    # Waiting for an operator to look at it before anything is requested; it
    # leaves for `coordinating` or `closed`. Its name says no why: the reasons are
    # the operators', not the agency's to learn.
    IN_REVIEW = "in_review"
    COORDINATING = "coordinating"
    COORDINATED = "coordinated"
    WITHDRAWN = "withdrawn"
    CLOSED = "closed"


class SafetyRisk(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    UNKNOWN = "unknown"


class Outcome(StrEnum):
    """How a completed task ended: a code, never free text, which could carry personal data."""

    GOAL_ACHIEVED = "goal_achieved"
    PARTIALLY_ACHIEVED = "partially_achieved"
    TRANSFERRED = "transferred"
    LEFT_VOLUNTARILY = "left_voluntarily"
    OTHER = "other"
