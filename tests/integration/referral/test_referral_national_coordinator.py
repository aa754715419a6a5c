"""The national coordinator (issue 13): every organization's cases without a person in them,
the Action needed queue and its escalations, identification and the recovery period."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from korpu_contracts import referral, registry, streams
from korpu_contracts.vocabulary import Service, TaskStatus
from korpu_runtime import scrape
from korpu_runtime.service import Service as RunningService
from referral import bootstrap
from referral.adapters import organizations, tables
from referral.entrypoints import escalation
from support import bus, cases
from support.infra import wait_for
from support.metrics import metric
from support.referrals import ReferralService, referral_body

# A second, so that a test sees a task become overdue; every other service keeps its days.
SHELTER_DEADLINE_HOURS = 1 / 3600


@dataclass
class Desk:
    """The referral service with an agency and the national coordinator, each with its key."""

    agency: ReferralService
    coordinator_key: str

    @property
    def client(self) -> httpx.AsyncClient:
        return self.agency.client

    @property
    def service(self) -> RunningService:
        return self.agency.service

    def as_coordinator(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.coordinator_key}"}

    async def queue(self) -> list[dict[str, Any]]:
        answer = await self.client.get("/v1/coordinator/queue", headers=self.as_coordinator())
        assert answer.status_code == 200, answer.text
        items: list[dict[str, Any]] = answer.json()["items"]
        return items

    async def sweep(self) -> list[Any]:
        sweeper = next(p for p in self.service.parts if isinstance(p, escalation.Escalation))
        return await sweeper.run_once()

    async def scrape(self) -> str:
        path = self.service.settings.metrics_token_file
        headers = {"Authorization": f"Bearer {scrape.token(path)}"}
        answer = await self.client.get("/metrics", headers=headers)
        assert answer.status_code == 200, answer.text
        return answer.text


@pytest.fixture
async def desk(redis_db: str, database_url: str) -> AsyncIterator[Desk]:
    settings = bootstrap.Settings(
        redis_url=redis_db,
        database_url=database_url,
        consumer_name="referral-test",
        rate_limit_per_minute=1_000_000,
        rate_limit_burst=1_000_000,
        response_deadline_hours={"shelter": SHELTER_DEADLINE_HOURS},
        # Swept by the test itself (`Desk.sweep`), so each round is seen.
        escalation_interval_seconds=3600,
    )
    app = bootstrap.build_app(settings)
    service: RunningService = app.state.service
    async with app.router.lifespan_context(app):

        def organizations_made(conn: sa.Connection) -> tuple[str, str, str, str]:
            agency_id, agency_key = organizations.create(conn, "Police anti-trafficking unit")
            _, other_key = organizations.create(conn, "Other NGO")
            _, coordinator_key = organizations.create(
                conn, "National coordinator", organizations.COORDINATOR_SCOPES
            )
            return agency_id, agency_key, other_key, coordinator_key

        agency_id, agency_key, other_key, coordinator_key = await service.db.run(organizations_made)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://referral") as client:
            agency = ReferralService(service, client, agency_key, agency_id, other_key, redis_db)
            yield Desk(agency, coordinator_key)


def _shelter_only(reference: str, **person: Any) -> dict[str, Any]:
    body = referral_body(agency_reference=reference, needs=["shelter"])
    body["consent"] = {"shelter": "granted", "reporting": "granted"}
    body["person"] = {**body["person"], **person}
    return body


async def test_a_shelter_request_nobody_answers_is_escalated_once_and_the_answer_clears_it(
    desk: Desk,
) -> None:
    referral_id = await cases.submit(desk.agency, _shelter_only("POL-OVERDUE"), "overdue")

    async def overdue() -> list[dict[str, Any]]:
        return [i for i in await desk.queue() if i["kind"] == "task_overdue"]

    items = await wait_for(overdue, message="the unanswered shelter request never came due")
    assert [(i["referral_id"], i["service"]) for i in items] == [(referral_id, "shelter")]
    assert items[0]["due"] is not None

    assert [item.referral_id for item in await desk.sweep()] == [referral_id]
    assert await desk.sweep() == []  # once per item, however many rounds find it
    events = await bus.wait_for_events(
        desk.agency.redis_url,
        streams.ESCALATIONS,
        lambda found: len(found) >= 1,
        message="no escalation event",
    )
    assert len(events) == 1
    event = registry.read(events[0], referral.Escalated)
    assert (event.referral_id, event.kind, event.service) == (
        referral_id,
        "task_overdue",
        "shelter",
    )
    # Nothing of the person: the event names the case, why and since when.
    raw = json.dumps(events[0].model_dump(mode="json"))
    for private in ("Aysel", "Məmmədova", "2001-04-12", "+994501234567", "POL-OVERDUE"):
        assert private not in raw
    text = await desk.scrape()
    assert metric(text, "korpu_escalations_total", kind="task_overdue") == 1
    assert metric(text, "korpu_action_needed", kind="task_overdue") == 1

    await cases.answer(desk.agency, referral_id, Service.SHELTER, TaskStatus.ACCEPTED, revision=1)
    await cases.wait_for_service_status(
        desk.agency, referral_id, Service.SHELTER, TaskStatus.ACCEPTED
    )
    assert [i for i in await desk.queue() if i["referral_id"] == referral_id] == []
    assert metric(await desk.scrape(), "korpu_action_needed", kind="task_overdue") == 0


async def test_a_person_at_high_risk_put_on_the_waitlist_is_in_the_queue_until_housed(
    desk: Desk,
) -> None:
    referral_id = await cases.submit(desk.agency, _shelter_only("POL-RISK"), "risk")
    await cases.answer(desk.agency, referral_id, Service.SHELTER, TaskStatus.ON_HOLD, revision=1)
    await cases.wait_for_service_status(
        desk.agency, referral_id, Service.SHELTER, TaskStatus.ON_HOLD
    )
    kinds = {i["kind"] for i in await desk.queue() if i["referral_id"] == referral_id}
    assert kinds == {"high_risk_waiting"}

    # Forty days on the waitlist: past the first band (a month).
    history = tables.history
    await desk.service.db.run(
        lambda conn: conn.execute(
            history.update()
            .where(history.c.referral_id == referral_id, history.c.status == "on-hold")
            .values(at=dt.datetime.now(dt.UTC) - dt.timedelta(days=40))
        )
    )
    band = [i for i in await desk.queue() if i["kind"] == "waitlist_band"]
    assert [(i["referral_id"], i["band_days"]) for i in band] == [(referral_id, 30)]

    await cases.answer(desk.agency, referral_id, Service.SHELTER, TaskStatus.ACCEPTED, revision=2)
    await cases.wait_for_service_status(
        desk.agency, referral_id, Service.SHELTER, TaskStatus.ACCEPTED
    )
    assert [i for i in await desk.queue() if i["referral_id"] == referral_id] == []


async def test_identification_and_recovery_are_recorded_by_the_coordinator_and_shown_to_the_agency(
    desk: Desk,
) -> None:
    referral_id = await cases.submit(desk.agency, _shelter_only("POL-ID"), "identification")
    view = await cases.view(desk.agency, referral_id)
    assert view["identification"] == {"status": "potential", "decided_on": None}
    received = dt.date.fromisoformat(view["history"][0]["at"][:10])
    first_end = received + dt.timedelta(days=30)
    assert view["recovery_period"] == {"ends_on": str(first_end)}

    today = str(dt.date.today())
    decision = {"status": "identified", "decided_on": today}
    path = f"/v1/coordinator/cases/{referral_id}"
    agency = desk.agency.headers(idempotency=None)
    for headers, status in ((agency, 403), ({}, 401)):
        refused = await desk.client.post(f"{path}/identification", json=decision, headers=headers)
        assert refused.status_code == status, refused.text
        extension = {"extend_days": 30, "reason": "health"}
        refused = await desk.client.post(f"{path}/recovery-period", json=extension, headers=headers)
        assert refused.status_code == status, refused.text

    recorded = await desk.client.post(
        f"{path}/identification", json=decision, headers=desk.as_coordinator()
    )
    assert recorded.status_code == 200, recorded.text
    assert recorded.json()["identification"] == decision
    extended = await desk.client.post(
        f"{path}/recovery-period",
        json={"extend_days": 30, "reason": "criminal_proceedings"},
        headers=desk.as_coordinator(),
    )
    assert extended.status_code == 200, extended.text
    later = str(first_end + dt.timedelta(days=30))
    assert extended.json()["recovery_period"] == {"ends_on": later}
    assert [e["reason"] for e in extended.json()["recovery_extensions"]] == ["criminal_proceedings"]

    view = await cases.view(desk.agency, referral_id)
    assert view["identification"] == decision
    assert view["recovery_period"] == {"ends_on": later}

    for wrong in (
        {"status": "potential", "decided_on": today},
        {"status": "identified", "decided_on": str(dt.date.today() + dt.timedelta(days=2))},
    ):
        answer = await desk.client.post(
            f"{path}/identification", json=wrong, headers=desk.as_coordinator()
        )
        assert answer.status_code == 422, answer.text
    note = {"extend_days": 10, "reason": "She is afraid of the man who brought her"}
    answer = await desk.client.post(
        f"{path}/recovery-period", json=note, headers=desk.as_coordinator()
    )
    assert answer.status_code == 422  # a code, never free text about the person


async def test_a_recovery_period_about_to_end_is_in_the_queue_until_extended(desk: Desk) -> None:
    referral_id = await cases.submit(desk.agency, _shelter_only("POL-RECOVERY"), "recovery")
    referrals = tables.referrals
    soon = dt.date.today() + dt.timedelta(days=3)
    await desk.service.db.run(
        lambda conn: conn.execute(
            referrals.update().where(referrals.c.id == referral_id).values(recovery_ends_on=soon)
        )
    )
    ending = [i for i in await desk.queue() if i["kind"] == "recovery_ending"]
    assert [(i["referral_id"], i["due"][:10]) for i in ending] == [(referral_id, str(soon))]
    assert {i.kind for i in await desk.sweep() if i.referral_id == referral_id} >= {
        "recovery_ending"
    }

    extended = await desk.client.post(
        f"/v1/coordinator/cases/{referral_id}/recovery-period",
        json={"extend_days": 30, "reason": "identification_pending"},
        headers=desk.as_coordinator(),
    )
    assert extended.status_code == 200, extended.text
    assert not [i for i in await desk.queue() if i["kind"] == "recovery_ending"]


async def test_the_case_list_searches_every_organization_and_never_shows_a_person(
    desk: Desk,
) -> None:
    child = _shelter_only(
        "POL-CHILD", given_name="Leyla", date_of_birth="2012-03-01", possibly_minor=True
    )
    child["consent"] = {"shelter": "not_required_child"}
    child_id = await cases.submit(desk.agency, child, "child")
    adult_id = await cases.submit(desk.agency, _shelter_only("POL-ADULT"), "adult")
    other = ReferralService(
        desk.service, desk.client, desk.agency.other_key, "", desk.agency.other_key, ""
    )
    other_id = await cases.submit(
        other, _shelter_only("NGO-7", given_name="Nigar", date_of_birth="1995-06-01"), "other"
    )

    answer = await desk.client.get("/v1/coordinator/cases", headers=desk.as_coordinator())
    assert answer.status_code == 200, answer.text
    listed = answer.json()["cases"]
    assert {c["id"] for c in listed} == {child_id, adult_id, other_id}
    assert {c["organization"]["name"] for c in listed} == {
        "Police anti-trafficking unit",
        "Other NGO",
    }
    for private in (
        "Aysel", "Leyla", "Nigar", "Məmmədova", "2001-04-12", "2012-03-01", "1995-06-01",
        "+994501234567", "border crossing",
    ):  # fmt: skip
        assert private not in answer.text
    line = next(c for c in listed if c["id"] == child_id)
    assert set(line["flags"]) == {"child", "high_risk"}
    assert line["waiting_since"] is not None
    assert line["identification"]["status"] == "potential"

    async def search(**query: Any) -> list[str]:
        found = await desk.client.get(
            "/v1/coordinator/cases", params=query, headers=desk.as_coordinator()
        )
        assert found.status_code == 200, found.text
        return [c["id"] for c in found.json()["cases"]]

    assert await search(flag="child") == [child_id]
    assert await search(agency_reference="NGO-7") == [other_id]
    assert await search(status="closed") == []
    assert await search(waiting_over_hours=48) == []
    assert set(await search(region="AZ-BA")) == {child_id, adult_id, other_id}
    first = await desk.client.get(
        "/v1/coordinator/cases", params={"limit": 2}, headers=desk.as_coordinator()
    )
    rest = await desk.client.get(
        "/v1/coordinator/cases",
        params={"limit": 2, "cursor": first.json()["next_cursor"]},
        headers=desk.as_coordinator(),
    )
    paged = [c["id"] for c in first.json()["cases"] + rest.json()["cases"]]
    assert sorted(paged) == sorted([child_id, adult_id, other_id])
    assert rest.json()["next_cursor"] is None

    # Every view is in the audit trail, naming the cases it showed.
    trail = tables.audit_log
    listed_rows = await desk.service.db.run(
        lambda conn: conn.execute(
            sa.select(trail.c.detail).where(trail.c.action == "cases_listed")
        ).all()
    )
    assert len(listed_rows) == 8
    refusals: list[tuple[dict[str, str], int]] = [
        (desk.agency.headers(idempotency=None), 403),
        ({}, 401),
    ]
    for headers, status in refusals:
        answer = await desk.client.get("/v1/coordinator/cases", headers=headers)
        assert answer.status_code == status, answer.text


async def test_statistics_count_identified_and_potential_victims_apart(desk: Desk) -> None:
    ids = []
    for n in range(10):
        born = str(dt.date(1990, 1, 1) + dt.timedelta(days=n))
        body = _shelter_only(f"POL-S{n}", date_of_birth=born)
        referral_id = await cases.submit(desk.agency, body, f"statistics-{n}")
        await cases.answer(
            desk.agency, referral_id, Service.SHELTER, TaskStatus.ACCEPTED, revision=1
        )
        ids.append(referral_id)
    for referral_id in ids:
        await cases.wait_for_service_status(
            desk.agency, referral_id, Service.SHELTER, TaskStatus.ACCEPTED
        )
    received = dt.datetime(2026, 2, 10, 9, 0, tzinfo=dt.UTC)
    referrals = tables.referrals
    await desk.service.db.run(
        lambda conn: conn.execute(
            referrals.update().where(referrals.c.id.in_(ids)).values(created_at=received)
        )
    )
    for referral_id in ids[:5]:
        recorded = await desk.client.post(
            f"/v1/coordinator/cases/{referral_id}/identification",
            json={"status": "identified", "decided_on": "2026-03-01"},
            headers=desk.as_coordinator(),
        )
        assert recorded.status_code == 200, recorded.text

    answer = await desk.client.get(
        "/v1/statistics",
        params={"from": "2026-01-01", "to": "2026-03-31"},
        headers=desk.as_coordinator(),
    )
    assert answer.status_code == 200, answer.text
    (quarter,) = answer.json()["quarters"]
    assert quarter["people_assisted"] == 10
    counted = {c["status"]: c["people"] for c in quarter["identification"]}
    assert counted == {"identified": 5, "potential": 5, "not_identified": 0}
