"""Employment and legal aid follow the region where the shelter houses the person."""

from __future__ import annotations

import pytest

from korpu_contracts.vocabulary import Reason, Service, TaskStatus
from referral.domain import model

REQUESTED = TaskStatus.REQUESTED


def _tasks(shelter: model.Task | None, *others: Service) -> dict[str, model.Task]:
    tasks = {f"t-{service}": model.Task(service, REQUESTED) for service in others}
    if shelter is not None:
        tasks["t-shelter"] = shelter
    return tasks


def test_a_course_and_a_lawyer_wait_for_the_shelters_answer() -> None:
    tasks = _tasks(model.Task(Service.SHELTER, REQUESTED), Service.EMPLOYMENT, Service.LEGAL_AID)

    assert model.to_request(tasks) == ["t-shelter"]
    assert model.waits_for_housing(tasks["t-employment"], tasks.values())
    assert model.waits_for_housing(tasks["t-legal_aid"], tasks.values())


@pytest.mark.parametrize(
    "shelter",
    [
        pytest.param(None, id="no-shelter-needed"),
        pytest.param(
            model.Task(Service.SHELTER, TaskStatus.REJECTED, Reason.CONSENT_MISSING),
            id="no-consent-for-shelter",
        ),
        pytest.param(model.Task(Service.SHELTER, TaskStatus.ON_HOLD), id="shelter-answered"),
    ],
)
def test_nothing_waits_when_no_shelter_answer_is_to_come(shelter: model.Task | None) -> None:
    tasks = _tasks(shelter, Service.EMPLOYMENT, Service.LEGAL_AID)

    assert sorted(model.to_request(tasks)) == ["t-employment", "t-legal_aid"]


def test_help_follows_the_region_of_the_bed_once_housed() -> None:
    housed = model.Task(
        Service.SHELTER,
        TaskStatus.ACCEPTED,
        detail={"facility": "Baku police shelter", "region": "AZ-BA", "out_of_region": True},
    )
    tasks = _tasks(housed, Service.EMPLOYMENT, Service.LEGAL_AID).values()

    assert model.region_for(Service.EMPLOYMENT, tasks, "AZ-GA") == "AZ-BA"
    assert model.region_for(Service.LEGAL_AID, tasks, "AZ-GA") == "AZ-BA"
    # The shelter itself is asked for the region of the referral.
    assert model.region_for(Service.SHELTER, tasks, "AZ-GA") == "AZ-GA"


@pytest.mark.parametrize(
    "status", [TaskStatus.ON_HOLD, TaskStatus.REJECTED, TaskStatus.CANCELLED, REQUESTED]
)
def test_without_a_bed_help_is_given_where_the_person_was_referred(status: TaskStatus) -> None:
    shelter = model.Task(Service.SHELTER, status, detail={"waitlist_position": 2})
    tasks = _tasks(shelter, Service.EMPLOYMENT).values()

    assert model.region_for(Service.EMPLOYMENT, tasks, "AZ-GA") == "AZ-GA"


def test_only_the_shelters_first_answer_releases_the_held_tasks() -> None:
    requested = model.Task(Service.SHELTER, REQUESTED)
    accepted = model.Task(Service.SHELTER, TaskStatus.ACCEPTED, detail={"region": "AZ-BA"})
    on_hold = model.Task(Service.SHELTER, TaskStatus.ON_HOLD)

    assert model.just_housed_or_refused(requested, accepted)
    assert model.just_housed_or_refused(requested, on_hold)
    assert not model.just_housed_or_refused(on_hold, accepted)  # a promotion: already sent
    course = model.Task(Service.EMPLOYMENT, REQUESTED)
    assert not model.just_housed_or_refused(course, model.Task(Service.EMPLOYMENT, on_hold.status))
