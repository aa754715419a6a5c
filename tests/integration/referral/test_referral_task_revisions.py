"""The coordinator keeps each provider's latest answer, not the latest to arrive (real database)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TypeVar

import pytest
import sqlalchemy as sa

from korpu_contracts import intake, providers, streams
from korpu_contracts.envelope import Envelope
from korpu_contracts.vocabulary import Reason, Service, TaskStatus
from korpu_runtime.unit_of_work import UnitOfWork
from referral import bootstrap
from referral.adapters import organizations, tables
from referral.adapters.repository import ReferralRepository
from referral.domain import exceptions
from referral.service_layer import coordinator
from support.referrals import referral_body

T = TypeVar("T")


class Referral:
    """One submitted referral on a fresh database, answered about through the coordinator."""

    def __init__(self, database_url: str) -> None:
        self.database = bootstrap.database(bootstrap.Settings(database_url=database_url))
        self.database.create_schema(tables.metadata)
        request = intake.ReferralRequest.model_validate(referral_body())
        organization_id, _ = self.database.transaction(
            lambda conn: organizations.create(conn, "Police anti-trafficking unit")
        )
        submitted = self._work(
            lambda uow: coordinator.submit(uow, organization_id, "key-1", "hash", request)
        )
        self.id = submitted.referral_id
        self.status_stream = streams.referral_status(organization_id)
        tasks = self.database.transaction(lambda conn: ReferralRepository(conn).tasks(self.id))
        self.shelter_task = next(i for i, t in tasks.items() if t.service is Service.SHELTER)

    def _work(self, work: Callable[[UnitOfWork], T]) -> T:
        return self.database.transaction(
            lambda conn: work(UnitOfWork(conn, tables.outbox, tables.inbox))
        )

    def answer(
        self,
        status: TaskStatus,
        revision: int,
        reason: Reason | None = None,
        task_id: str | None = None,
        **detail: str | int,
    ) -> None:
        envelope = providers.answer(
            source="korpu/shelter",
            service=Service.SHELTER,
            task_id=task_id or self.shelter_task,
            referral_id=self.id,
            status=status,
            revision=revision,
            reason=reason,
            detail=dict(detail),
        )
        self._work(lambda uow: coordinator.record_task_update(uow, envelope))

    def shelter(self) -> tuple[TaskStatus, dict[str, str | int | bool | None]]:
        task = self.database.transaction(lambda conn: ReferralRepository(conn).tasks(self.id))[
            self.shelter_task
        ]
        return task.status, task.detail

    def history(self) -> list[tuple[str | None, str]]:
        rows = self.database.transaction(lambda conn: ReferralRepository(conn).history(self.id))
        return [(row.service, row.status) for row in rows]

    def told_to_agency(self) -> list[Envelope]:
        query = sa.select(tables.outbox.c.body).where(tables.outbox.c.stream == self.status_stream)
        rows = self.database.transaction(lambda conn: list(conn.execute(query)))
        return [Envelope.from_json(row.body) for row in rows]


@pytest.fixture
def submitted(database_url: str) -> Iterator[Referral]:
    referral = Referral(database_url)
    yield referral
    referral.database.close()


def test_an_old_on_hold_delivered_after_accepted_changes_and_tells_nothing(
    submitted: Referral,
) -> None:
    submitted.answer(TaskStatus.ACCEPTED, 2, facility="Baku Women's Shelter")
    history, told = submitted.history(), submitted.told_to_agency()

    submitted.answer(TaskStatus.ON_HOLD, 1, Reason.NO_CAPACITY, waitlist_position=1)

    assert submitted.shelter() == ("accepted", {"facility": "Baku Women's Shelter"})
    assert submitted.history() == history
    assert submitted.told_to_agency() == told


def test_a_newer_place_in_line_stays_when_an_older_one_arrives_after_it(
    submitted: Referral,
) -> None:
    submitted.answer(TaskStatus.ON_HOLD, 1, Reason.NO_CAPACITY, waitlist_position=3)
    submitted.answer(TaskStatus.ON_HOLD, 3, Reason.NO_CAPACITY, waitlist_position=1)
    submitted.answer(TaskStatus.ON_HOLD, 2, Reason.NO_CAPACITY, waitlist_position=2)

    assert submitted.shelter() == ("on-hold", {"waitlist_position": 1})
    assert [s for service, s in submitted.history() if service == "shelter"] == [
        "requested",
        "on-hold",
    ]


def test_an_answer_about_a_task_never_created_raises_and_writes_nothing(
    submitted: Referral,
) -> None:
    told = submitted.told_to_agency()
    with pytest.raises(exceptions.UnknownTask):
        submitted.answer(TaskStatus.ACCEPTED, 1, task_id="never-created")
    assert submitted.told_to_agency() == told


def test_a_case_workers_steps_reach_the_agency_as_in_progress_then_completed(
    submitted: Referral,
) -> None:
    place = {"facility": "Baku Women's Shelter", "region": "AZ-BA"}
    submitted.answer(TaskStatus.ACCEPTED, 1, None, **place)
    submitted.answer(TaskStatus.IN_PROGRESS, 2, None, **place)
    submitted.answer(TaskStatus.COMPLETED, 3, None, **place, outcome="goal_achieved")

    assert submitted.shelter() == ("completed", {**place, "outcome": "goal_achieved"})
    assert [s for service, s in submitted.history() if service == "shelter"] == [
        "requested",
        "accepted",
        "in-progress",
        "completed",
    ]
    told = [e.data["services"]["shelter"]["status"] for e in submitted.told_to_agency()]
    assert told[-3:] == ["accepted", "in-progress", "completed"]


def test_a_person_who_could_not_be_reached_is_told_to_the_agency_in_those_words(
    submitted: Referral,
) -> None:
    submitted.answer(TaskStatus.ACCEPTED, 1, facility="Baku Women's Shelter")
    submitted.answer(TaskStatus.FAILED, 2, Reason.CLIENT_UNREACHABLE)

    assert submitted.shelter() == ("failed", {})
    (last, *_) = reversed(submitted.told_to_agency())
    assert last.data["services"]["shelter"] == {
        "status": "failed",
        "reason": "client_unreachable",
        "detail": {},
    }
