"""Consent given anew for one purpose, and the child who turns 18: what follows for the case.

A child needs no consent of their own (a guardian or the competent authority
acts for them); at 18 the person must consent to continue (docs/domain.md). Until
the agency answers, what was given stays given: a young person is not put out
of a shelter on their birthday. Rejected: cancelling tasks held under
`not_required_child` at 18, which would end help the person may well want.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Mapping

from korpu_contracts.vocabulary import Consent, Purpose, Reason, Service, TaskStatus
from referral.domain import exceptions, model

# The answers that an adult gives for themselves: each confirms consent at 18.
OWN_ANSWERS = frozenset({Consent.GRANTED, Consent.REFUSED, Consent.WITHDRAWN})


def service_of(purpose: Purpose) -> Service | None:
    """The service a purpose is consent for; None for `reporting`."""
    return next((service for service in Service if service.value == purpose.value), None)


class Step(enum.Enum):
    """What a consent change does to the task of its service."""

    NOTHING = "nothing"
    CANCEL = "cancel"  # consent gone: the provider frees what it holds
    REQUEST = "request"  # never sent for want of consent: sent now, as it is
    REPLACE = "replace"  # cancelled earlier for want of consent: a new task is sent


def step(task: model.Task | None, consent: Consent, child: bool) -> Step:
    """What consent now given means for the service's task (None: not a need of the case).

    A grant requests again only a task that consent had stopped: one never sent
    (`consent_missing`) or one cancelled as withdrawn. A task a provider refused,
    completed or failed stays as it is: its answer was about the person's case,
    not about consent. A grant over an open task changes nothing.
    """
    if task is None:
        return Step.NOTHING
    if not model.consent_allows(consent, child):
        return Step.NOTHING if task.is_final else Step.CANCEL
    if (task.status, task.reason) == (TaskStatus.REJECTED, Reason.CONSENT_MISSING):
        return Step.REQUEST
    if (task.status, task.reason) == (TaskStatus.CANCELLED, Reason.WITHDRAWN):
        return Step.REPLACE
    return Step.NOTHING


def eighteenth_birthday(date_of_birth: dt.date) -> dt.date:
    """The day the person turns 18; born on 29 February, 1 March in a common year."""
    try:
        return date_of_birth.replace(year=date_of_birth.year + model.ADULT_AGE)
    except ValueError:
        return dt.date(date_of_birth.year + model.ADULT_AGE, 3, 1)


def came_of_age(date_of_birth: dt.date | None, received_on: dt.date, today: dt.date) -> bool:
    """Turned 18 after the case was received, by today.

    Only a known date of birth tells the day: a child of estimated age, or one
    presumed a child for want of any age, stays a child until the agency says
    otherwise (CoE art. 10(3)), as does a person presumed a child although their
    stated date of birth already made them 18 when referred (documents may be
    false). Rejected: ageing an `age_estimate` by the time passed, which would
    turn a guess into a birthday.
    """
    if date_of_birth is None:
        return False
    return received_on < eighteenth_birthday(date_of_birth) <= today


def child_now(
    was_child: bool, date_of_birth: dt.date | None, received_on: dt.date, today: dt.date
) -> bool:
    return was_child and not came_of_age(date_of_birth, received_on, today)


def check(consent: Consent, child: bool) -> None:
    """Raise `NotAChild` for `not_required_child` given for an adult."""
    if consent is Consent.NOT_REQUIRED_CHILD and not child:
        raise exceptions.NotAChild


def review_settled(consents: Mapping[Purpose, Consent], answer: Consent) -> bool:
    """After the now-adult person's own answer, is their consent confirmed?

    Not while a purpose still stands on `not_required_child`, which an adult
    cannot hold: the agency answers for each. Consents given while a child
    (`granted` by a guardian) the agency confirms by answering any one of them.
    """
    return answer in OWN_ANSWERS and Consent.NOT_REQUIRED_CHILD not in consents.values()
