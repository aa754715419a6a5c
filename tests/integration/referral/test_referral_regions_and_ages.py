"""At intake, HTTP and bus alike: a region is stored as its code, an unknown one is refused
naming `region`, and with no age at all `possibly_minor` must be stated."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
import sqlalchemy as sa

from korpu_contracts import referral, streams
from korpu_contracts.envelope import Envelope
from referral.adapters import tables
from support import bus
from support.referrals import ReferralService, referral_body


async def _post(referral_service: ReferralService, body: dict[str, Any]) -> Any:
    return await referral_service.client.post(
        "/v1/referrals", json=body, headers=referral_service.headers(idempotency=uuid.uuid4().hex)
    )


async def _stored_region(referral_service: ReferralService, referral_id: str) -> str:
    def read(conn: sa.Connection) -> str:
        query = sa.select(tables.referrals.c.region).where(tables.referrals.c.id == referral_id)
        return str(conn.execute(query).scalar_one())

    return await referral_service.service.db.run(read)


@pytest.mark.parametrize("written", ["Bakı", "Baku", "Баку", "AZ-BA", "  BAKI "])
async def test_every_spelling_of_baku_is_stored_and_passed_on_as_one_code(
    referral_service: ReferralService, written: str
) -> None:
    answer = await _post(referral_service, referral_body(region=written))

    assert answer.status_code == 202, answer.text
    referral_id = answer.json()["id"]
    assert await _stored_region(referral_service, referral_id) == "AZ-BA"
    events = await bus.wait_for_events(
        referral_service.redis_url,
        streams.SHELTER_REQUESTS,
        lambda found: any(e.subject == referral_id for e in found),
        message="no shelter request",
    )
    [asked] = [e for e in events if e.subject == referral_id]
    assert (asked.dataschemaversion, asked.data["region"]) == (2, "AZ-BA")


async def test_an_unknown_region_is_a_422_naming_region_and_nothing_is_stored(
    referral_service: ReferralService,
) -> None:
    answer = await _post(referral_service, referral_body(region="Atlantis"))

    assert answer.status_code == 422
    assert answer.headers["content-type"] == "application/problem+json"
    assert [error["field"] for error in answer.json()["errors"]] == ["region"]
    assert "Atlantis" not in answer.text

    def count(conn: sa.Connection) -> int:
        return int(conn.execute(sa.select(sa.func.count()).select_from(tables.referrals)).scalar())

    assert await referral_service.service.db.run(count) == 0


def _without_age(**person: Any) -> dict[str, Any]:
    body = referral_body()
    body["person"] = {**body["person"], "date_of_birth": None, "age_estimate": None}
    del body["person"]["possibly_minor"]
    body["person"].update(person)
    return body


async def test_no_age_and_no_word_on_a_minor_is_a_422_naming_possibly_minor(
    referral_service: ReferralService,
) -> None:
    answer = await _post(referral_service, _without_age())

    assert answer.status_code == 422
    assert [error["field"] for error in answer.json()["errors"]] == ["person.possibly_minor"]


@pytest.mark.parametrize(("possibly_minor", "child"), [(False, False), (True, True)])
async def test_with_no_age_the_agencys_word_says_child_or_adult(
    referral_service: ReferralService, possibly_minor: bool, child: bool
) -> None:
    answer = await _post(referral_service, _without_age(possibly_minor=possibly_minor))

    assert answer.status_code == 202, answer.text
    referral_id = answer.json()["id"]
    events = await bus.wait_for_events(
        referral_service.redis_url,
        streams.SHELTER_REQUESTS,
        lambda found: any(e.subject == referral_id for e in found),
        message="no shelter request",
    )
    [asked] = [e for e in events if e.subject == referral_id]
    assert referral.TaskRequested.model_validate(asked.data).is_child is child


async def test_on_the_bus_a_region_is_a_code_and_an_unknown_one_is_refused_naming_it(
    referral_service: ReferralService,
) -> None:
    await referral_service.submit_on_bus("bus-ganja", referral_body(region="Гянджа"), "POL-1")
    unknown = {**_without_age(), "region": "Atlantis"}
    await referral_service.submit_unchecked_on_bus("bus-bad", unknown)

    replies: list[Envelope] = await bus.wait_for_events(
        referral_service.redis_url,
        referral_service.replies,
        lambda events: len(events) >= 2,
        message="no answers on the intake replies stream",
    )
    accepted = next(r for r in replies if r.type == referral.ReferralAccepted.TYPE)
    rejected = next(r for r in replies if r.type == referral.ReferralRejected.TYPE)
    assert await _stored_region(referral_service, accepted.data["referral_id"]) == "AZ-GA"
    fields = {error["field"] for error in rejected.data["errors"]}
    assert fields == {"data.referral.region", "data.referral.person.possibly_minor"}
