"""Answers about one referral handled at the same moment on PostgreSQL: none is lost from view."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pytest
import sqlalchemy as sa

from korpu_contracts import intake, providers
from korpu_contracts.vocabulary import ReferralStatus, Service, TaskStatus
from korpu_runtime.database import Database
from korpu_runtime.unit_of_work import UnitOfWork
from referral import bootstrap
from referral.adapters import organizations, tables
from referral.adapters.repository import ReferralRepository
from referral.service_layer import coordinator
from support.referrals import referral_body

pytestmark = pytest.mark.postgres


def _accept(database: Database, referral_id: str, task_id: str, service: Service,
            hold_seconds: float = 0.0) -> None:  # fmt: skip
    envelope = providers.answer(
        source=f"korpu/{service}", service=service, task_id=task_id, referral_id=referral_id,
        status=TaskStatus.ACCEPTED, revision=1,
    )  # fmt: skip

    def work(conn: sa.Connection) -> None:
        coordinator.record_task_update(UnitOfWork(conn, tables.outbox, tables.inbox), envelope)
        time.sleep(hold_seconds)  # still uncommitted: the other answer arrives meanwhile

    database.transaction(work)


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
    _accept(database, referral_id, by_service[Service.LEGAL_AID], Service.LEGAL_AID)

    first = threading.Thread(
        target=_accept,
        args=(database, referral_id, by_service[Service.SHELTER], Service.SHELTER, 0.5),
    )
    first.start()
    time.sleep(0.1)
    _accept(database, referral_id, by_service[Service.EMPLOYMENT], Service.EMPLOYMENT)
    first.join()

    row = database.transaction(lambda conn: ReferralRepository(conn).get(referral_id))
    database.close()
    assert row is not None and row.status == ReferralStatus.COORDINATED
