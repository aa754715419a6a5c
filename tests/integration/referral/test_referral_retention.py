"""A case closes when every task is final; its person is erased once closed past retention."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator

import httpx
import pytest
import sqlalchemy as sa

from korpu_contracts.vocabulary import Reason, Service, TaskStatus
from korpu_runtime.service import Service as RunningService
from referral import bootstrap
from referral.adapters import organizations, repository, tables
from support import cases
from support.infra import wait_for
from support.referrals import ReferralService, referral_body

RETENTION_DAYS = 365


@pytest.fixture
async def swept_service(redis_db: str, database_url: str) -> AsyncIterator[ReferralService]:
    """A referral service whose retention sweep looks every fifth of a second."""
    settings = bootstrap.Settings(
        redis_url=redis_db,
        database_url=database_url,
        consumer_name="referral-test",
        personal_data_retention_days=RETENTION_DAYS,
        erasure_interval_seconds=0.2,
    )
    app = bootstrap.build_app(settings)
    service: RunningService = app.state.service
    async with app.router.lifespan_context(app):
        organization_id, api_key = await service.db.run(
            lambda conn: organizations.create(conn, "Police anti-trafficking unit")
        )
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://referral") as client:
            yield ReferralService(service, client, api_key, organization_id, api_key, redis_db)


async def _closed_at(referral_service: ReferralService, referral_id: str) -> str | None:
    closed_at: str | None = (await cases.view(referral_service, referral_id))["closed_at"]
    return closed_at


async def test_a_case_closes_when_its_last_open_task_ends_not_when_coordinated(
    referral_service: ReferralService,
) -> None:
    referral_id = await cases.submit(referral_service, referral_body(), "closing")
    answers = [
        (Service.SHELTER, TaskStatus.ACCEPTED, None),
        (Service.EMPLOYMENT, TaskStatus.REJECTED, Reason.NOT_ELIGIBLE),
        (Service.LEGAL_AID, TaskStatus.ACCEPTED, None),
    ]
    for service, status, reason in answers:
        await cases.answer(referral_service, referral_id, service, status, reason, revision=1)
    view = await cases.wait_for_service_status(
        referral_service, referral_id, Service.LEGAL_AID, TaskStatus.ACCEPTED
    )
    # Every task answered, two still going on: coordinated, open.
    assert (view["status"], view["closed_at"]) == ("coordinated", None)

    for service in (Service.SHELTER, Service.LEGAL_AID):
        await cases.answer(referral_service, referral_id, service, TaskStatus.COMPLETED, revision=2)
    view = await cases.wait_for_service_status(
        referral_service, referral_id, Service.LEGAL_AID, TaskStatus.COMPLETED
    )
    assert view["status"] == "coordinated" and view["closed_at"] is not None


async def test_a_withdrawn_case_is_closed_and_reopens_if_a_task_is_requested_again(
    referral_service: ReferralService,
) -> None:
    referral_id = await cases.submit(referral_service, referral_body(), "withdrawn")
    assert await _closed_at(referral_service, referral_id) is None
    withdrawn = await referral_service.client.post(
        f"/v1/referrals/{referral_id}/withdraw", headers=referral_service.headers()
    )
    assert withdrawn.json()["status"] == "withdrawn" and withdrawn.json()["closed_at"]

    # A consent given anew requests a task again: the case is open, its clock stopped.
    def request_again(conn: sa.Connection) -> None:
        cases_repository = repository.ReferralRepository(conn)
        task_id, task = next(iter(cases_repository.tasks(referral_id).items()))
        task.status, task.reason = TaskStatus.REQUESTED, None
        cases_repository.save_task(task_id, task)

    await referral_service.service.db.run(request_again)
    assert await _closed_at(referral_service, referral_id) is None


async def test_a_case_with_no_task_to_request_is_closed_at_once(
    referral_service: ReferralService,
) -> None:
    refused = {"shelter": "refused", "employment": "refused", "legal_aid": "refused"}
    referral_id = await cases.submit(referral_service, referral_body(consent=refused), "none")
    view = await cases.view(referral_service, referral_id)
    assert view["status"] == "coordinated" and view["closed_at"] is not None


async def _backdate_closing(referral_service: ReferralService, referral_id: str, days: int) -> None:
    at = dt.datetime.now(dt.UTC) - dt.timedelta(days=days)
    referrals = tables.referrals
    await referral_service.service.db.run(
        lambda conn: conn.execute(
            referrals.update().where(referrals.c.id == referral_id).values(closed_at=at)
        )
    )


async def _withdrawn(referral_service: ReferralService, key: str) -> str:
    referral_id = await cases.submit(referral_service, referral_body(), key)
    answer = await referral_service.client.post(
        f"/v1/referrals/{referral_id}/withdraw", headers=referral_service.headers()
    )
    assert answer.status_code == 200
    return referral_id


async def test_the_sweep_erases_cases_closed_longer_than_the_retention_and_no_other(
    swept_service: ReferralService,
) -> None:
    long_closed = await _withdrawn(swept_service, "long-closed")
    recently_closed = await _withdrawn(swept_service, "recently-closed")
    still_open = await cases.submit(swept_service, referral_body(), "open")
    await _backdate_closing(swept_service, long_closed, RETENTION_DAYS + 30)
    await _backdate_closing(swept_service, recently_closed, RETENTION_DAYS - 30)

    async def erased() -> dict[str, object] | None:
        view = await cases.view(swept_service, long_closed)
        return view if view["erased_at"] else None

    view = await wait_for(erased, message="the sweep never erased the case")
    assert view["history"][-1]["status"] == "erased"
    assert view["history"][-1]["reason"] == "retention_expired"
    db = swept_service.service.db
    # The same round looked at all three: only the one past retention went.
    for referral_id, person_kept in ((long_closed, False), (recently_closed, True),
                                     (still_open, True)):  # fmt: skip
        person = await db.run(
            lambda conn, referral_id=referral_id: repository.ReferralRepository(conn).person(
                referral_id
            )
        )
        assert (person is not None) is person_kept, referral_id
        assert bool((await cases.view(swept_service, referral_id))["erased_at"]) is not person_kept
    trail = await db.run(
        lambda conn: conn.execute(
            sa.select(tables.audit_log).where(tables.audit_log.c.action == "person_erased")
        ).all()
    )
    assert [(row.actor_kind, row.referral_id) for row in trail] == [("system", long_closed)]
    ready = await swept_service.client.get("/health/ready")
    assert ready.json()["checks"]["personal_data_retention"] is True
