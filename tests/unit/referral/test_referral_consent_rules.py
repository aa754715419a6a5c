"""The rules of consent given anew and of a child's 18th birthday, in the domain's words."""

from __future__ import annotations

import datetime as dt

import pytest

from korpu_contracts.vocabulary import Consent, Purpose, Reason, Service, TaskStatus
from referral.domain import consent, exceptions, model


def _task(status: TaskStatus, reason: Reason | None = None) -> model.Task:
    return model.Task(Service.SHELTER, status, reason)


@pytest.mark.parametrize(
    "status",
    [TaskStatus.REQUESTED, TaskStatus.ACCEPTED, TaskStatus.ON_HOLD, TaskStatus.IN_PROGRESS],
)
@pytest.mark.parametrize("given", [Consent.WITHDRAWN, Consent.REFUSED])
def test_consent_withdrawn_or_refused_cancels_an_open_task(
    status: TaskStatus, given: Consent
) -> None:
    assert consent.step(_task(status), given, child=False) is consent.Step.CANCEL


def test_consent_withdrawn_leaves_an_ended_task_as_it_is() -> None:
    completed = _task(TaskStatus.COMPLETED)
    assert consent.step(completed, Consent.WITHDRAWN, child=False) is consent.Step.NOTHING


def test_a_grant_sends_a_task_never_sent_for_want_of_consent() -> None:
    missing = _task(TaskStatus.REJECTED, Reason.CONSENT_MISSING)
    assert consent.step(missing, Consent.GRANTED, child=False) is consent.Step.REQUEST


def test_a_grant_after_a_withdrawal_replaces_the_cancelled_task() -> None:
    cancelled = _task(TaskStatus.CANCELLED, Reason.WITHDRAWN)
    assert consent.step(cancelled, Consent.GRANTED, child=False) is consent.Step.REPLACE


@pytest.mark.parametrize("reason", [Reason.NO_CAPACITY, Reason.NOT_ELIGIBLE])
def test_a_grant_never_asks_again_a_provider_that_said_no(reason: Reason) -> None:
    refused = _task(TaskStatus.REJECTED, reason)
    assert consent.step(refused, Consent.GRANTED, child=False) is consent.Step.NOTHING


def test_a_grant_for_a_service_not_needed_creates_no_task() -> None:
    assert consent.step(None, Consent.GRANTED, child=False) is consent.Step.NOTHING


def test_not_required_child_is_for_children_only() -> None:
    consent.check(Consent.NOT_REQUIRED_CHILD, child=True)
    with pytest.raises(exceptions.NotAChild):
        consent.check(Consent.NOT_REQUIRED_CHILD, child=False)


@pytest.mark.parametrize(
    ("born", "eighteen"),
    [
        (dt.date(2008, 6, 15), dt.date(2026, 6, 15)),
        (dt.date(2008, 2, 29), dt.date(2026, 3, 1)),
        (dt.date(2006, 2, 28), dt.date(2024, 2, 28)),
    ],
)
def test_the_18th_birthday(born: dt.date, eighteen: dt.date) -> None:
    assert consent.eighteenth_birthday(born) == eighteen


def test_born_on_29_february_a_child_is_still_17_on_28_february_of_a_common_year() -> None:
    born = dt.date(2008, 2, 29)
    assert model.age_in_years(born, None, dt.date(2026, 2, 28)) == 17
    assert not consent.came_of_age(born, dt.date(2025, 1, 1), dt.date(2026, 2, 28))
    assert consent.came_of_age(born, dt.date(2025, 1, 1), dt.date(2026, 3, 1))


def test_coming_of_age_needs_a_known_birth_date_and_a_birthday_during_the_case() -> None:
    received, today = dt.date(2025, 1, 1), dt.date(2026, 7, 1)
    assert consent.came_of_age(dt.date(2008, 6, 15), received, today)
    assert not consent.came_of_age(None, received, today)
    # 18 by the stated date before being referred: presumed a child all the same.
    assert not consent.came_of_age(dt.date(2000, 6, 15), received, today)
    assert not consent.child_now(True, dt.date(2008, 6, 15), received, today)
    assert consent.child_now(True, None, received, today)


def test_the_review_is_settled_only_when_no_purpose_stands_on_not_required_child() -> None:
    both = {
        Purpose(Service.SHELTER): Consent.GRANTED,
        Purpose(Service.LEGAL_AID): Consent.NOT_REQUIRED_CHILD,
    }
    assert not consent.review_settled(both, Consent.GRANTED)
    settled = {
        Purpose(Service.SHELTER): Consent.GRANTED,
        Purpose(Service.LEGAL_AID): Consent.REFUSED,
    }
    assert consent.review_settled(settled, Consent.REFUSED)
