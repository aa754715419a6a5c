"""Closed vocabularies shared by the HTTP contract and the events (README, docs/domain.md)."""

from enum import StrEnum


class Service(StrEnum):
    SHELTER = "shelter"
    EMPLOYMENT = "employment"
    LEGAL_AID = "legal_aid"


# The service that houses the person, and the services whose help is given where the
# person is housed: they are asked once the housing service has answered, for the
# region it housed the person in (docs/domain.md, "Where help is given"). A service
# added later joins FOLLOWS_HOUSING when its help is given in person.
HOUSING = Service.SHELTER
FOLLOWS_HOUSING = frozenset({Service.EMPLOYMENT, Service.LEGAL_AID})


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

    SHELTER = Service.SHELTER.value
    EMPLOYMENT = Service.EMPLOYMENT.value
    LEGAL_AID = Service.LEGAL_AID.value
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
