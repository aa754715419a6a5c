"""The Action needed queue's rules and the recovery period's, without a database."""

from __future__ import annotations

import datetime as dt

import pytest

from korpu_contracts.vocabulary import ActionNeeded, Identification, TaskStatus
from referral.domain import action_needed, recognition
from referral.service_layer import statistics

NOW = dt.datetime(2026, 6, 1, 12, 0, tzinfo=dt.UTC)
RULES = action_needed.Rules()


def _task(
    service: str, status: TaskStatus, hours_ago: float, risk: str = "low"
) -> action_needed.OpenTask:
    since = NOW - dt.timedelta(hours=hours_ago)
    return action_needed.OpenTask("case-1", service, status, since, risk)


def test_a_shelter_has_a_day_to_answer_and_other_services_three() -> None:
    late = action_needed.task_items([_task("shelter", TaskStatus.REQUESTED, 25)], RULES, NOW)
    assert [(i.kind, i.service) for i in late] == [(ActionNeeded.TASK_OVERDUE, "shelter")]
    in_time = [
        _task("shelter", TaskStatus.REQUESTED, 23),
        _task("legal_aid", TaskStatus.REQUESTED, 71),
    ]
    assert action_needed.task_items(in_time, RULES, NOW) == []


def test_a_task_held_back_for_the_shelters_answer_is_never_its_providers_delay() -> None:
    tasks = [
        _task("shelter", TaskStatus.REQUESTED, 100),
        _task("employment", TaskStatus.REQUESTED, 100),
    ]
    items = action_needed.task_items(tasks, RULES, NOW)
    assert [i.service for i in items] == ["shelter"]


def test_a_person_at_high_risk_on_the_shelters_waitlist_and_a_waitlist_past_three_months() -> None:
    risky = action_needed.task_items([_task("shelter", TaskStatus.ON_HOLD, 1, "high")], RULES, NOW)
    assert [i.kind for i in risky] == [ActionNeeded.HIGH_RISK_WAITING]
    long_wait = _task("legal_aid", TaskStatus.ON_HOLD, 24 * 100)
    (band,) = action_needed.task_items([long_wait], RULES, NOW)
    assert (band.kind, band.band_days) == (ActionNeeded.WAITLIST_BAND, 90)


def test_a_recovery_period_shows_in_its_last_week_and_not_after_it_ended() -> None:
    today = NOW.date()
    assert action_needed.recovery_item("c", today + dt.timedelta(days=7), RULES, today)
    assert action_needed.recovery_item("c", today + dt.timedelta(days=8), RULES, today) is None
    assert action_needed.recovery_item("c", today - dt.timedelta(days=1), RULES, today) is None


def test_the_same_wait_found_again_is_the_same_item_and_a_new_wait_another() -> None:
    task = _task("shelter", TaskStatus.REQUESTED, 30)
    (now,) = action_needed.task_items([task], RULES, NOW)
    (later,) = action_needed.task_items([task], RULES, NOW + dt.timedelta(hours=5))
    assert now.key == later.key
    (asked_again,) = action_needed.task_items(
        [_task("shelter", TaskStatus.REQUESTED, 25)], RULES, NOW
    )
    assert asked_again.key != now.key


def test_a_decision_is_identified_or_not_and_never_dated_ahead() -> None:
    received = dt.date(2026, 5, 1)
    recognition.check_decision(
        Identification.IDENTIFIED, dt.date(2026, 5, 20), received, NOW.date()
    )
    for status, day in (
        (Identification.POTENTIAL, dt.date(2026, 5, 20)),
        (Identification.NOT_IDENTIFIED, dt.date(2026, 6, 2)),
    ):
        with pytest.raises(recognition.InvalidDecision):
            recognition.check_decision(status, day, received, NOW.date())


def test_an_extension_counts_from_the_periods_end_or_from_today_once_it_has_passed() -> None:
    today = dt.date(2026, 6, 1)
    assert recognition.extended(dt.date(2026, 6, 10), 30, today) == dt.date(2026, 7, 10)
    assert recognition.extended(dt.date(2026, 5, 20), 30, today) == dt.date(2026, 7, 1)
    with pytest.raises(recognition.InvalidDecision):
        recognition.extended(dt.date(2026, 6, 10), 0, today)


def _assisted(identified: int, potential: int) -> list[statistics._Case]:
    quarter = statistics.Quarter(2026, 1)
    return [
        statistics._Case(quarter, "AZ-BA", "female", "adult", status, {"shelter"})
        for status, n in (
            (Identification.IDENTIFIED, identified),
            (Identification.POTENTIAL, potential),
        )
        for _ in range(n)
    ]


def test_one_potential_victim_among_identified_ones_is_never_given_away_by_subtraction() -> None:
    figures = statistics._quarter_figures(statistics.Quarter(2026, 1), _assisted(6, 1))
    shown = {str(status): count.people for status, count in figures.identification}
    assert shown == {"identified": None, "potential": None, "not_identified": 0}
    figures = statistics._quarter_figures(statistics.Quarter(2026, 1), _assisted(3, 0))
    assert all(count.suppressed for _, count in figures.identification)
