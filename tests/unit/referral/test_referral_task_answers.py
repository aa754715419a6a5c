"""A task takes its provider's answers in the provider's order, whatever order they arrive in."""

from __future__ import annotations

from korpu_contracts.vocabulary import Reason, Service, TaskStatus
from referral.domain import model

ON_HOLD, ACCEPTED = TaskStatus.ON_HOLD, TaskStatus.ACCEPTED


def requested() -> model.Task:
    return model.Task(Service.SHELTER, TaskStatus.REQUESTED)


def test_an_old_on_hold_arriving_after_accepted_changes_nothing() -> None:
    task = requested()
    assert task.apply(ACCEPTED, None, {"facility": "Baku"}, revision=2)

    assert not task.apply(ON_HOLD, Reason.NO_CAPACITY, {"waitlist_position": 1}, revision=1)

    assert (task.status, task.detail, task.revision) == (ACCEPTED, {"facility": "Baku"}, 2)


def test_the_same_revision_twice_is_taken_once() -> None:
    task = requested()
    assert task.apply(ON_HOLD, Reason.NO_CAPACITY, {"waitlist_position": 2}, revision=1)
    assert not task.apply(ON_HOLD, Reason.NO_CAPACITY, {"waitlist_position": 3}, revision=1)
    assert task.detail == {"waitlist_position": 2}


def test_a_newer_place_in_line_replaces_an_older_one_even_when_it_came_first() -> None:
    task = requested()
    assert task.apply(ON_HOLD, Reason.NO_CAPACITY, {"waitlist_position": 1}, revision=3)
    assert not task.apply(ON_HOLD, Reason.NO_CAPACITY, {"waitlist_position": 2}, revision=2)
    assert task.detail == {"waitlist_position": 1}


def test_a_newer_revision_saying_the_same_is_kept_so_an_older_one_stays_out() -> None:
    task = requested()
    task.apply(ON_HOLD, Reason.NO_CAPACITY, {"waitlist_position": 1}, revision=1)
    assert task.apply(ON_HOLD, Reason.NO_CAPACITY, {"waitlist_position": 1}, revision=3)
    assert task.revision == 3
    assert not task.apply(ACCEPTED, None, {}, revision=2)


def test_unnumbered_answers_from_an_older_provider_are_taken_as_they_arrive() -> None:
    task = requested()
    assert task.apply(ACCEPTED, None, {}, revision=0)
    assert task.apply(ON_HOLD, Reason.NO_CAPACITY, {"waitlist_position": 1})
    assert not task.apply(ON_HOLD, Reason.NO_CAPACITY, {"waitlist_position": 1})
    assert (task.status, task.revision) == (ON_HOLD, 0)


def test_a_final_task_takes_no_answer_however_new() -> None:
    task = requested()
    model.withdraw([task])
    assert not task.apply(ACCEPTED, None, {}, revision=9)
    assert (task.status, task.reason) == (TaskStatus.CANCELLED, Reason.WITHDRAWN)
