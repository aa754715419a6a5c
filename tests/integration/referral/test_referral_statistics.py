"""`GET /v1/statistics`: people assisted per quarter, as the Ministry publishes them."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

import sqlalchemy as sa

from korpu_contracts.vocabulary import Service, TaskStatus
from referral.adapters import audit, organizations, tables
from referral.service_layer import erasure
from support import cases
from support.infra import wait_for
from support.referrals import ReferralService, referral_body

# Each person born on another day: the same name and birth date would be one
# person referred twice, a duplicate that is never coordinated.
BIRTHS = itertools.count()
Q1 = dt.datetime(2026, 2, 10, 9, 0, tzinfo=dt.UTC)
Q2 = dt.datetime(2026, 4, 15, 9, 0, tzinfo=dt.UTC)


async def _administrator_key(referral_service: ReferralService) -> str:
    organization_id = referral_service.organization_id
    _, key = await referral_service.service.db.run(
        lambda conn: organizations.create_key(conn, organization_id, (organizations.STATISTICS,))
    )
    return key


async def _people(
    referral_service: ReferralService,
    count: int,
    *,
    received: dt.datetime,
    sex: str = "female",
    region: str = "Baku",
    child: bool = False,
    reporting: str = "granted",
    shelter: TaskStatus = TaskStatus.ACCEPTED,
) -> list[str]:
    """`count` people referred for a shelter, answered by it, received on `received`."""
    consent = "not_required_child" if child else "granted"
    ids = []
    for _ in range(count):
        body = referral_body(
            needs=["shelter"], region=region, consent={"shelter": consent, "reporting": reporting}
        )
        born = dt.date(2012 if child else 1990, 1, 1) + dt.timedelta(days=next(BIRTHS))
        body["person"] = {
            **body["person"],
            "sex": sex,
            "possibly_minor": child,
            "date_of_birth": str(born),
        }
        key = f"{received.date()}-{sex}-{region}-{child}-{reporting}-{shelter}-{len(ids)}"
        referral_id = await cases.submit(referral_service, body, key)
        await cases.answer(referral_service, referral_id, Service.SHELTER, shelter, revision=1)
        ids.append(referral_id)
    await _wait_answered(referral_service, ids, shelter)
    referrals = tables.referrals
    await referral_service.service.db.run(
        lambda conn: conn.execute(
            referrals.update().where(referrals.c.id.in_(ids)).values(created_at=received)
        )
    )
    return ids


async def _wait_answered(
    referral_service: ReferralService, ids: list[str], status: TaskStatus
) -> None:
    query = sa.select(sa.func.count()).where(
        tables.tasks.c.referral_id.in_(ids), tables.tasks.c.status == status
    )

    async def answered() -> bool:
        found = await referral_service.service.db.run(lambda conn: conn.execute(query).scalar())
        return found == len(ids)

    await wait_for(answered, message="the shelter's answers were not recorded")


async def _statistics(referral_service: ReferralService, key: str, **period: str) -> dict[str, Any]:
    params = {"from": period.get("first", "2026-02-01"), "to": period.get("last", "2026-05-10")}
    answer = await referral_service.client.get(
        "/v1/statistics", params=params, headers={"Authorization": f"Bearer {key}"}
    )
    assert answer.status_code == 200, answer.text
    result: dict[str, Any] = answer.json()
    return result


def _cells(quarter: dict[str, Any]) -> dict[tuple[str, str, str, str], int | None]:
    return {
        (c["service"], c["region"], c["sex"], c["age_group"]): c["people"] for c in quarter["cells"]
    }


async def test_people_assisted_are_counted_per_quarter_and_small_groups_are_hidden(
    referral_service: ReferralService,
) -> None:
    women = await _people(referral_service, 6, received=Q1)
    await _people(referral_service, 3, received=Q1, sex="male")
    await _people(referral_service, 5, received=Q1, region="Ganja")
    # Not counted: no consent to reporting, or never assisted (waitlisted).
    await _people(referral_service, 2, received=Q1, reporting="refused")
    await _people(referral_service, 1, received=Q1, shelter=TaskStatus.ON_HOLD)
    # Children count with consent not required; in the next quarter.
    await _people(referral_service, 5, received=Q2, child=True, reporting="not_required_child")
    # A court's erasure takes the person, never the figure.
    await referral_service.service.db.run(
        lambda conn: erasure.erase(
            conn, women[0], erasure.Basis.ORDER, audit.Actor("operator", "t"), "Order 1/2026"
        )
    )

    figures = await _statistics(referral_service, await _administrator_key(referral_service))

    # Whole quarters, whatever days were asked for.
    assert (figures["first_day"], figures["last_day"]) == ("2026-01-01", "2026-06-30")
    first, second = figures["quarters"]
    assert (first["quarter"], first["people_assisted"], first["suppressed"]) == (
        "2026-Q1",
        14,
        False,
    )
    assert _cells(first) == {
        # Regions as their codes, whichever name the agency wrote.
        ("shelter", "AZ-BA", "female", "adult"): 6,
        # 3 men: hidden. Ganja's 5 hidden with them, or 14 - 6 - 5 would tell the 3.
        ("shelter", "AZ-BA", "male", "adult"): None,
        ("shelter", "AZ-GA", "female", "adult"): None,
    }
    assert all(c["suppressed"] is (c["people"] is None) for c in first["cells"])
    assert (second["quarter"], second["people_assisted"]) == ("2026-Q2", 5)
    assert _cells(second) == {("shelter", "AZ-BA", "female", "child"): 5}


async def test_a_quarter_of_fewer_than_five_people_shows_no_number(
    referral_service: ReferralService,
) -> None:
    await _people(referral_service, 4, received=Q1)
    key = await _administrator_key(referral_service)
    [quarter] = (await _statistics(referral_service, key, last="2026-03-31"))["quarters"]
    assert (quarter["people_assisted"], quarter["suppressed"]) == (None, True)
    assert [c["people"] for c in quarter["cells"]] == [None]
    assert "4" not in str(quarter)


async def test_statistics_need_the_scope_and_a_valid_period(
    referral_service: ReferralService,
) -> None:
    agency = {"Authorization": f"Bearer {referral_service.api_key}"}
    admin = {"Authorization": f"Bearer {await _administrator_key(referral_service)}"}
    period = {"from": "2026-01-01", "to": "2026-03-31"}
    client = referral_service.client
    forbidden = await client.get("/v1/statistics", params=period, headers=agency)
    assert forbidden.status_code == 403
    assert forbidden.json()["missing_scope"] == "statistics:read"
    assert (await client.get("/v1/statistics", params=period)).status_code == 401

    invalid = [
        ({"from": "2026-04-01", "to": "2026-03-31"}, "from"),
        ({"from": "2026-13-01", "to": "2026-03-31"}, "query.from"),
        ({"to": "2026-03-31"}, "query.from"),
        ({"from": "2000-01-01", "to": "2026-03-31"}, "to"),
    ]
    for params, field in invalid:
        answer = await client.get("/v1/statistics", params=params, headers=admin)
        assert answer.status_code == 422, (params, answer.text)
        assert answer.headers["content-type"] == "application/problem+json"
        assert field in [error["field"] for error in answer.json()["errors"]], answer.text
