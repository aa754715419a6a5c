"""Answers about one referral handled at the same moment on PostgreSQL: none is lost from view."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent import futures

import pytest
import sqlalchemy as sa

from korpu_contracts import intake, providers
from korpu_contracts.envelope import Envelope
from korpu_contracts.vocabulary import ReferralStatus, Service, TaskStatus
from korpu_runtime.database import Database
from korpu_runtime.unit_of_work import UnitOfWork
from referral import bootstrap
from referral.adapters import organizations, tables
from referral.adapters.repository import ReferralRepository
from referral.service_layer import coordinator
from support.infra import wait_until
from support.referrals import referral_body

pytestmark = pytest.mark.postgres


def _answer(referral_id: str, task_id: str, service: Service) -> Envelope:
    return providers.answer(
        source=f"korpu/{service}", service=service, task_id=task_id, referral_id=referral_id,
        status=TaskStatus.ACCEPTED, revision=1,
    )  # fmt: skip


def _record(conn: sa.Connection, answer: Envelope) -> None:
    coordinator.record_task_update(UnitOfWork(conn, tables.outbox, tables.inbox), answer)


# What the second answer did while the first was still uncommitted.
WAITED = "waited for the first answer's transaction"
WENT_PAST = "committed beside the first answer's transaction"


def _waiting_behind(database: Database, holder: int) -> bool:
    """Some transaction is waiting for a lock that backend `holder` holds."""
    query = sa.text(
        "SELECT count(*) FROM pg_stat_activity WHERE :holder = ANY(pg_blocking_pids(pid))"
    )
    return bool(database.transaction(lambda conn: conn.execute(query, {"holder": holder}).scalar()))


def test_the_last_two_answers_at_once_still_make_the_referral_coordinated(
    make_postgres_database: Callable[[str], str],
) -> None:
    settings = bootstrap.Settings(database_url=make_postgres_database("referral_race"))
    database = bootstrap.database(settings)
    database.create_schema(tables.metadata)
    organization_id, _ = database.transaction(lambda conn: organizations.create(conn, "Police"))
    request = intake.ReferralRequest.model_validate(referral_body())
    submitted = database.transaction(
        lambda conn: coordinator.submit(
            UnitOfWork(conn, tables.outbox, tables.inbox), organization_id, "k", "h", request
        )
    )
    referral_id = submitted.referral_id
    tasks = database.transaction(lambda conn: ReferralRepository(conn).tasks(referral_id))
    by_service = {task.service: task_id for task_id, task in tasks.items()}
    answers = {service: _answer(referral_id, task, service) for service, task in by_service.items()}
    database.transaction(lambda conn: _record(conn, answers[Service.LEGAL_AID]))

    # The shelter's answer is recorded and left uncommitted until the employment
    # answer, handled meanwhile, either waits for it or goes past it: the race made
    # on purpose, whatever the machine's load. Rejected: a pause in the first
    # transaction and a shorter one before the second, which under load let the
    # first commit before the second began, and the test passed without a race.
    shelter_recorded, employment_done = threading.Event(), threading.Event()

    def shelter_answer(conn: sa.Connection) -> str:
        _record(conn, answers[Service.SHELTER])
        holder = int(conn.execute(sa.text("SELECT pg_backend_pid()")).scalar_one())
        shelter_recorded.set()

        def race() -> str | None:
            if employment_done.is_set():
                return WENT_PAST
            return WAITED if _waiting_behind(database, holder) else None

        return wait_until(race, timeout=10, message="the employment answer never came")

    with futures.ThreadPoolExecutor(max_workers=1) as pool:
        shelter = pool.submit(database.transaction, shelter_answer)
        if not shelter_recorded.wait(timeout=10):
            shelter.result()  # its error, if it failed before recording
            raise AssertionError("the shelter answer was never recorded")
        database.transaction(lambda conn: _record(conn, answers[Service.EMPLOYMENT]))
        employment_done.set()
        race = shelter.result()

    row = database.transaction(lambda conn: ReferralRepository(conn).get(referral_id))
    database.close()
    # The race did happen: the employment answer came while the shelter answer was
    # uncommitted, and had to wait for it.
    assert race == WAITED
    assert row is not None and row.status == ReferralStatus.COORDINATED
