"""The referral's rules: who is a child, which tasks to request, what status follows."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from korpu_contracts.vocabulary import (
    FINAL_TASK_STATUSES,
    FOLLOWS_HOUSING,
    HOUSING,
    Consent,
    Purpose,
    Reason,
    ReferralStatus,
    Service,
    TaskStatus,
)

ADULT_AGE = 18
# A referral in one of these states is over: nothing about it is asked for again
# (a consent change, a coming-of-age review), and it is no open case to link to.
ENDED_STATUSES = frozenset({ReferralStatus.WITHDRAWN, ReferralStatus.CLOSED})


def age_in_years(
    date_of_birth: dt.date | None, age_estimate: int | None, today: dt.date
) -> int | None:
    if date_of_birth is not None:
        before_birthday = (today.month, today.day) < (date_of_birth.month, date_of_birth.day)
        return today.year - date_of_birth.year - int(before_birthday)
    return age_estimate


def is_child(age: int | None, possibly_minor: bool) -> bool:
    """Under 18, or presumed a child: marked possibly a minor (CoE art. 10(3)).

    With no age at all the agency must have said which (`intake.Person`), so
    `possibly_minor` false then means an adult. Rejected: presuming a child
    whenever no age is known, which housed adults with children, refused them
    every program and counted them as children.
    """
    return possibly_minor or (age is not None and age < ADULT_AGE)


def consent_allows(consent: Consent | None, child: bool) -> bool:
    """A task is requested only with consent granted, or for a child, not required."""
    return consent is Consent.GRANTED or (child and consent is Consent.NOT_REQUIRED_CHILD)


@dataclass
class Task:
    service: Service
    status: TaskStatus
    reason: Reason | None = None
    detail: dict[str, str | int | bool | None] = field(default_factory=dict)
    # The newest numbered answer applied (`TaskUpdated.revision`); 0 before any.
    revision: int = 0

    @property
    def is_final(self) -> bool:
        return self.status in FINAL_TASK_STATUSES

    def apply(
        self,
        status: TaskStatus,
        reason: Reason | None,
        detail: Mapping[str, str | int | bool | None],
        revision: int = 0,
    ) -> bool:
        """Take a provider's answer; False when it changes nothing, revision included.

        A final task never changes again: an answer that crosses a withdrawal on
        the wire must not bring a cancelled task back. A numbered answer not newer
        than the one applied is ignored: answers overtake one another on the way,
        and an `on-hold` sent before `accepted` must not undo it. An unnumbered
        answer (revision 0, from a provider older than revisions) carries no order
        and is taken as it arrives, as before. Rejected: ignoring unnumbered
        answers once a numbered one was applied, which would freeze a task whose
        provider was rolled back to an older build.
        """
        if self.is_final:
            return False
        if revision and revision <= self.revision:
            return False
        answer = (status, reason, dict(detail))
        if answer == (self.status, self.reason, self.detail) and not revision:
            return False
        self.status, self.reason, self.detail = answer
        self.revision = max(self.revision, revision)
        return True


def plan_tasks(
    needs: Iterable[Service], consent: Mapping[Purpose, Consent], child: bool
) -> list[Task]:
    """One task per need: requested when consented, else answered at once as consent_missing."""
    return [
        Task(service, TaskStatus.REQUESTED)
        if consent_allows(consent.get(Purpose(service)), child)
        else Task(service, TaskStatus.REJECTED, Reason.CONSENT_MISSING)
        for service in needs
    ]


# Where the housing service's answer says the person sleeps: the detail's region
# while the bed is held (accepted, in progress).
HOUSED = frozenset({TaskStatus.ACCEPTED, TaskStatus.IN_PROGRESS})


def waits_for_housing(task: Task, tasks: Iterable[Task]) -> bool:
    """A requested task held back until the housing service has answered.

    A course or a lawyer in one city is no help to a person housed in another
    (docs/domain.md), and until the shelter answers nobody knows where that is.
    So a following service is asked only then; the referral reads
    `coordinating` meanwhile. Rejected: asking every service at once and moving
    the others after a bed elsewhere (a seat taken and given back, the person
    told twice); waiting for the bed itself when the answer is a waitlist (the
    person is then still where they were referred, and help there may not wait).
    """
    if task.service not in FOLLOWS_HOUSING or task.status is not TaskStatus.REQUESTED:
        return False
    return any(t.service is HOUSING and t.status is TaskStatus.REQUESTED for t in tasks)


def region_for(service: Service, tasks: Iterable[Task], referral_region: str) -> str:
    """The region a service is asked to help in: where the person is housed, else referred."""
    if service in FOLLOWS_HOUSING:
        housing = next((t for t in tasks if t.service is HOUSING), None)
        if housing is not None and housing.status in HOUSED:
            housed = housing.detail.get("region")
            if isinstance(housed, str) and housed:
                return housed
    return referral_region


def just_housed_or_refused(before: Task, after: Task) -> bool:
    """The housing service's first answer to a request: the held-back tasks go now."""
    return (
        after.service is HOUSING
        and before.status is TaskStatus.REQUESTED
        and after.status is not TaskStatus.REQUESTED
    )


def to_request(tasks: Mapping[str, Task]) -> list[str]:
    """The ids of the requested tasks to send now: every one not waiting for housing."""
    return [
        task_id
        for task_id, task in tasks.items()
        if task.status is TaskStatus.REQUESTED and not waits_for_housing(task, tasks.values())
    ]


def referral_status(tasks: Iterable[Task], withdrawn: bool) -> ReferralStatus:
    if withdrawn:
        return ReferralStatus.WITHDRAWN
    if any(task.status is TaskStatus.REQUESTED for task in tasks):
        return ReferralStatus.COORDINATING
    return ReferralStatus.COORDINATED


def withdraw(tasks: Iterable[Task]) -> list[Task]:
    """Cancel every open task; returns the ones the providers must be told about."""
    cancelled = []
    for task in tasks:
        if not task.is_final:
            task.status, task.reason = TaskStatus.CANCELLED, Reason.WITHDRAWN
            cancelled.append(task)
    return cancelled
