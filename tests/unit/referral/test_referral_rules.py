"""Who is a child, which tasks a referral asks for, and what its status reads: at the edges."""

from __future__ import annotations

import datetime as dt

import pytest

from korpu_contracts.vocabulary import Consent, Purpose, Reason, ReferralStatus, Service, TaskStatus
from referral.domain import consent, model

TODAY = dt.date(2026, 12, 7)
OPEN = [TaskStatus.REQUESTED, TaskStatus.ACCEPTED, TaskStatus.ON_HOLD, TaskStatus.IN_PROGRESS]
FINAL = [TaskStatus.REJECTED, TaskStatus.COMPLETED, TaskStatus.CANCELLED, TaskStatus.FAILED]
ANSWERED = [status for status in TaskStatus if status is not TaskStatus.REQUESTED]


@pytest.mark.parametrize(
    ("age", "possibly_minor", "child"),
    [
        pytest.param(17, False, True, id="17 is a child"),
        pytest.param(18, False, False, id="18 is an adult"),
        pytest.param(0, False, True, id="a baby is a child"),
        pytest.param(18, True, True, id="18 on paper but possibly a minor is presumed a child"),
        pytest.param(40, True, True, id="possibly a minor whatever the stated age"),
        pytest.param(None, False, False, id="no age known and said not a minor is an adult"),
        pytest.param(None, True, True, id="no age and possibly a minor is a child"),
    ],
)
def test_who_is_a_child(age: int | None, possibly_minor: bool, child: bool) -> None:
    assert model.is_child(age, possibly_minor) is child


@pytest.mark.parametrize(
    ("born", "age"),
    [
        pytest.param(dt.date(2008, 12, 7), 18, id="18 on the birthday itself"),
        pytest.param(dt.date(2008, 12, 8), 17, id="17 the day before"),
        pytest.param(dt.date(2008, 11, 30), 18, id="18 since last month"),
        pytest.param(dt.date(2009, 1, 1), 17, id="17 until the new year's birthday"),
    ],
)
def test_age_in_whole_years_turns_on_the_birthday(born: dt.date, age: int) -> None:
    assert model.age_in_years(born, None, TODAY) == age


def test_a_date_of_birth_outweighs_an_estimate_and_an_estimate_is_taken_as_given() -> None:
    assert model.age_in_years(dt.date(2010, 1, 1), 30, TODAY) == 16
    assert model.age_in_years(None, 30, TODAY) == 30
    assert model.age_in_years(None, None, TODAY) is None


@pytest.mark.parametrize(
    ("given", "for_adult", "for_child"),
    [
        (Consent.GRANTED, True, True),
        (Consent.NOT_REQUIRED_CHILD, False, True),
        (Consent.REFUSED, False, False),
        (Consent.WITHDRAWN, False, False),
        (None, False, False),
    ],
)
def test_a_task_is_asked_for_only_with_consent_or_for_a_child_without_need_of_it(
    given: Consent | None, for_adult: bool, for_child: bool
) -> None:
    assert model.consent_allows(given, child=False) is for_adult
    assert model.consent_allows(given, child=True) is for_child


def test_each_need_becomes_one_task_in_order_consent_missing_where_not_consented() -> None:
    needs = [Service.SHELTER, Service.EMPLOYMENT, Service.LEGAL_AID]
    given = {
        Purpose(Service.SHELTER): Consent.GRANTED,
        Purpose(Service.EMPLOYMENT): Consent.REFUSED,
    }
    tasks = model.plan_tasks(needs, given, child=False)
    assert [(t.service, t.status, t.reason) for t in tasks] == [
        (Service.SHELTER, TaskStatus.REQUESTED, None),
        (Service.EMPLOYMENT, TaskStatus.REJECTED, Reason.CONSENT_MISSING),
        (Service.LEGAL_AID, TaskStatus.REJECTED, Reason.CONSENT_MISSING),
    ]


def test_not_required_child_asks_for_a_childs_task_and_never_an_adults() -> None:
    given = {Purpose(Service.LEGAL_AID): Consent.NOT_REQUIRED_CHILD}
    [child_task] = model.plan_tasks([Service.LEGAL_AID], given, child=True)
    [adult_task] = model.plan_tasks([Service.LEGAL_AID], given, child=False)
    assert (child_task.status, child_task.reason) == (TaskStatus.REQUESTED, None)
    assert (adult_task.status, adult_task.reason) == (TaskStatus.REJECTED, Reason.CONSENT_MISSING)


def _tasks(*statuses: TaskStatus) -> list[model.Task]:
    return [model.Task(Service.SHELTER, status) for status in statuses]


@pytest.mark.parametrize("answered", ANSWERED)
def test_a_referral_is_coordinating_while_any_task_is_still_requested(
    answered: TaskStatus,
) -> None:
    tasks = _tasks(answered, TaskStatus.REQUESTED)
    assert model.referral_status(tasks, withdrawn=False) is ReferralStatus.COORDINATING


@pytest.mark.parametrize("answered", ANSWERED)
def test_a_referral_is_coordinated_once_every_task_has_an_answer(answered: TaskStatus) -> None:
    tasks = _tasks(answered, TaskStatus.ACCEPTED)
    assert model.referral_status(tasks, withdrawn=False) is ReferralStatus.COORDINATED


def test_a_withdrawn_referral_reads_withdrawn_whatever_its_tasks_say() -> None:
    tasks = _tasks(TaskStatus.REQUESTED, TaskStatus.ACCEPTED)
    assert model.referral_status(tasks, withdrawn=True) is ReferralStatus.WITHDRAWN
    assert model.referral_status([], withdrawn=True) is ReferralStatus.WITHDRAWN


def test_a_withdrawal_cancels_every_open_task_as_withdrawn_and_leaves_ended_ones() -> None:
    tasks = _tasks(*OPEN, *FINAL)
    cancelled = model.withdraw(tasks)
    assert cancelled == tasks[: len(OPEN)]
    assert all((t.status, t.reason) == (TaskStatus.CANCELLED, Reason.WITHDRAWN) for t in cancelled)
    assert [t.status for t in tasks[len(OPEN) :]] == FINAL
    assert all(t.reason is None for t in tasks[len(OPEN) :])


@pytest.mark.parametrize("status", FINAL)
def test_an_ended_task_is_final_and_an_open_one_is_not(status: TaskStatus) -> None:
    assert model.Task(Service.SHELTER, status).is_final
    assert not any(model.Task(Service.SHELTER, open_status).is_final for open_status in OPEN)


@pytest.mark.parametrize("status", OPEN)
def test_not_required_child_keeps_a_childs_open_task_and_cancels_an_adults(
    status: TaskStatus,
) -> None:
    task = model.Task(Service.SHELTER, status)
    assert consent.step(task, Consent.NOT_REQUIRED_CHILD, child=True) is consent.Step.NOTHING
    assert consent.step(task, Consent.NOT_REQUIRED_CHILD, child=False) is consent.Step.CANCEL


def test_a_grant_over_an_open_task_changes_nothing() -> None:
    for status in OPEN:
        task = model.Task(Service.SHELTER, status)
        assert consent.step(task, Consent.GRANTED, child=False) is consent.Step.NOTHING


def test_a_grant_never_revives_a_task_cancelled_for_another_reason_than_withdrawal() -> None:
    task = model.Task(Service.SHELTER, TaskStatus.CANCELLED, Reason.PROVIDER_DECLINED)
    assert consent.step(task, Consent.GRANTED, child=False) is consent.Step.NOTHING


def test_received_on_the_18th_birthday_is_no_coming_of_age_but_today_being_it_is() -> None:
    born = dt.date(2008, 12, 7)
    assert not consent.came_of_age(born, received_on=TODAY, today=TODAY)
    assert consent.came_of_age(born, received_on=TODAY - dt.timedelta(days=1), today=TODAY)
    assert not consent.came_of_age(
        born, received_on=dt.date(2025, 1, 1), today=TODAY.replace(day=6)
    )


def test_the_service_a_purpose_is_consent_for() -> None:
    assert consent.service_of(Purpose(Service.SHELTER)) is Service.SHELTER
    assert consent.service_of(Purpose.REPORTING) is None
