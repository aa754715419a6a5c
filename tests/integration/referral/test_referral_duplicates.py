"""A person referred again while their case is open is never coordinated twice.

By the same organization: linked to its open case. By another: in review, for an operator.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from korpu_contracts import names
from korpu_contracts.vocabulary import Reason, Service, TaskStatus
from korpu_runtime.service import Service as RunningService
from referral import bootstrap
from referral.adapters import match_index, reviews, sealing, tables
from support import bus, cases
from support.infra import wait_for
from support.referrals import ReferralService, referral_body


def _person(given: str, family: str, born: str | None, **more: Any) -> dict[str, Any]:
    body = referral_body(agency_reference=f"REF-{uuid.uuid4().hex[:6]}")
    body["person"] = {**body["person"], "given_name": given, "family_name": family,
                      "date_of_birth": born, **more}  # fmt: skip
    return body


async def _submit(
    referral_service: ReferralService, body: dict[str, Any], key: str | None = None
) -> dict[str, Any]:
    headers = referral_service.headers(key, idempotency=uuid.uuid4().hex)
    answer = await referral_service.client.post("/v1/referrals", json=body, headers=headers)
    assert answer.status_code == 202, answer.text
    result: dict[str, Any] = answer.json()
    return result


async def _tasks_of(referral_service: ReferralService, referral_id: str) -> int:
    count = (
        sa.select(sa.func.count())
        .select_from(tables.tasks)
        .where(tables.tasks.c.referral_id == referral_id)
    )
    found: int = await referral_service.service.db.run(lambda conn: conn.execute(count).scalar())
    return found


@pytest.mark.parametrize(
    ("first", "again"),
    [
        pytest.param(("Aysel", "Şəkili"), ("AYSEL", "Shekili"), id="sh-schwa-capitals"),
        pytest.param(("Gülnarə", "Məmmədova"), ("Gulnare", "memmedova"), id="umlaut-schwa"),
        pytest.param(("Çingiz", "Ağayev"), ("Chingiz", "  Aghayev "), id="ch-gh-spaces"),
        pytest.param(("İlham", "Qırxqızlı"), ("ilham", "Qirxqizli"), id="dotted-dotless-i"),
    ],
)
async def test_the_same_person_referred_again_is_linked_to_the_open_case_not_coordinated(
    referral_service: ReferralService, first: tuple[str, str], again: tuple[str, str]
) -> None:
    opened = await _submit(referral_service, _person(*first, "2001-04-12"))
    assert opened["status"] == "coordinating"
    linked = await _submit(referral_service, _person(*again, "2001-04-12"))

    assert linked["status"] == "closed"
    assert await _tasks_of(referral_service, linked["id"]) == 0  # no provider asked twice
    view = await cases.view(referral_service, linked["id"])
    assert view["services"] == {}
    [flag] = view["flags"]
    assert (flag["kind"], flag["related_referral_id"]) == ("possible_duplicate", opened["id"])
    assert [step["status"] for step in view["history"]] == ["received", "closed"]
    assert (await cases.view(referral_service, opened["id"]))["flags"] == []


async def test_the_passport_and_russian_spellings_of_an_open_case_are_linked_to_it(
    referral_service: ReferralService,
) -> None:
    opened = await _submit(referral_service, _person("Aysel", "Məmmədova", "2001-04-12"))
    for given, family in (("AYSEL", "MAMMADOVA"), ("Айсель", "Мамедова")):
        linked = await _submit(referral_service, _person(given, family, "2001-04-12"))
        assert linked["status"] == "closed", family
        [flag] = (await cases.view(referral_service, linked["id"]))["flags"]
        assert flag["related_referral_id"] == opened["id"]


async def test_another_name_another_birth_date_or_no_birth_date_is_another_person(
    referral_service: ReferralService,
) -> None:
    await _submit(referral_service, _person("Aysel", "Məmmədova", "2001-04-12"))
    for body in (
        _person("Aysel", "Məmmədli", "2001-04-12"),
        _person("Aysel", "Məmmədova", "2001-04-13"),
        _person("Aysel", "Məmmədova", None, age_estimate=25),
        _person("Aysel", "Məmmədova", None, age_estimate=25),  # even twice: no birth date
    ):
        submitted = await _submit(referral_service, body)
        assert submitted["status"] == "coordinating", body["person"]


async def test_a_withdrawn_earlier_case_is_no_duplicate(
    referral_service: ReferralService,
) -> None:
    body = _person("Nigar", "Əliyeva", "1999-02-03")
    earlier = await _submit(referral_service, body)
    withdrawn = await referral_service.client.post(
        f"/v1/referrals/{earlier['id']}/withdraw", headers=referral_service.headers()
    )
    assert withdrawn.status_code in (200, 202), withdrawn.text
    again = await _submit(referral_service, body)
    assert again["status"] == "coordinating"
    assert (await cases.view(referral_service, again["id"]))["flags"] == []


async def test_a_case_whose_every_task_is_answered_for_good_is_no_duplicate(
    referral_service: ReferralService,
) -> None:
    body = _person(
        "Ləman",
        "Həsənova",
        "1995-07-08",
    )
    body["needs"] = ["shelter"]
    earlier = await _submit(referral_service, body)
    await cases.answer(
        referral_service, earlier["id"], Service.SHELTER, TaskStatus.REJECTED, Reason.NO_CAPACITY
    )

    async def over() -> bool:
        return (await cases.view(referral_service, earlier["id"]))["closed_at"] is not None

    await wait_for(over, message="the rejected case never closed")
    again = await _submit(referral_service, body)
    assert again["status"] == "coordinating"  # asked again: a bed may have freed up


async def test_a_person_referred_by_another_organization_waits_in_review_not_linked(
    referral_service: ReferralService,
) -> None:
    police = await _submit(referral_service, _person("Səbinə", "Quliyeva", "2003-10-01"))
    ngo = await _submit(
        referral_service,
        _person("Sebine", "QULIYEVA", "2003-10-01"),
        key=referral_service.other_key,
    )
    assert ngo["status"] == "in_review"
    assert await _tasks_of(referral_service, ngo["id"]) == 0  # no provider asked twice
    seen = await referral_service.client.get(
        f"/v1/referrals/{ngo['id']}", headers=referral_service.headers(referral_service.other_key)
    )
    view = seen.json()
    assert (view["flags"], view["services"], view["closed_at"]) == ([], {}, None)
    assert police["id"] not in seen.text  # not even the id
    assert [entry.related_referral_id for entry in await _pending(referral_service)] == [
        police["id"]
    ]
    other_case = await referral_service.client.get(
        f"/v1/referrals/{police['id']}",
        headers=referral_service.headers(referral_service.other_key),
    )
    assert other_case.status_code == 404  # and the police's case stays the police's


async def test_a_referral_in_review_keeps_waiting_through_a_consent_change_and_leaves_on_withdrawal(
    referral_service: ReferralService,
) -> None:
    await _submit(referral_service, _person("Ülviyyə", "Rəhimova", "1998-12-24"))
    ngo = await _submit(
        referral_service,
        _person("Ulviyye", "Rehimova", "1998-12-24"),
        key=referral_service.other_key,
    )
    headers = referral_service.headers(referral_service.other_key, idempotency=None)
    changed = await referral_service.client.post(
        f"/v1/referrals/{ngo['id']}/consent",
        json={"purpose": "employment", "consent": "refused"},
        headers=headers,
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["status"] == "in_review"  # only the operator ends a review
    assert await _tasks_of(referral_service, ngo["id"]) == 0

    withdrawn = await referral_service.client.post(
        f"/v1/referrals/{ngo['id']}/withdraw", headers=headers
    )
    assert withdrawn.status_code in (200, 202), withdrawn.text
    assert await _pending(referral_service) == []  # nothing left for the operator to decide
    # Still shown with everything decided: sending people to see who waits, then
    # withdrawing them, is what an operator looks for.
    [probe] = await referral_service.service.db.run(
        lambda conn: reviews.pending(conn, everything=True)
    )
    assert (probe.referral_id, probe.state) == (ngo["id"], "withdrawn")


async def test_a_third_organization_is_matched_to_the_earliest_open_case(
    referral_service: ReferralService,
) -> None:
    police = await _submit(referral_service, _person("Nərmin", "Vəliyeva", "2000-05-05"))
    ngo = await _submit(
        referral_service,
        _person("Nermin", "Veliyeva", "2000-05-05"),
        key=referral_service.other_key,
    )
    # The police send her again: their own case, linked as before, never the NGO's.
    again = await _submit(referral_service, _person("NƏRMİN", "VƏLİYEVA", "2000-05-05"))
    assert (ngo["status"], again["status"]) == ("in_review", "closed")
    [flag] = (await cases.view(referral_service, again["id"]))["flags"]
    assert flag["related_referral_id"] == police["id"]


async def _pending(referral_service: ReferralService) -> list[reviews.Pending]:
    return await referral_service.service.db.run(reviews.pending)


async def test_persons_stored_under_the_older_folding_are_indexed_again_on_start(
    referral_service: ReferralService, database_url: str
) -> None:
    # Stored before invisible characters were folded away: the index of the name as
    # version 1 folded it, zero-width space and all.
    stored = await _submit(referral_service, _person("Aysel", "Zey\u200bnalova", "1997-01-30"))

    def as_version_1(conn: sa.Connection) -> None:
        identity = "\x1f".join((names.plain("Aysel"), names.plain("Zey\u200bnalova"), "1997-01-30"))
        conn.execute(
            tables.persons.update()
            .where(tables.persons.c.referral_id == stored["id"])
            .values(match_key=sealing.of(conn).blind_index(identity))
        )
        conn.execute(tables.match_index_versions.delete())

    await referral_service.service.db.run(as_version_1)
    unmatched = await _submit(referral_service, _person("Aysel", "Zeynalova", "1997-01-30"))
    assert unmatched["status"] == "coordinating"  # the stale index hides her open case

    settings = bootstrap.Settings(
        redis_url=referral_service.redis_url, database_url=database_url, consumer_name="restarted"
    )
    app = bootstrap.build_app(settings)
    async with app.router.lifespan_context(app):

        async def reindexed() -> bool:
            return bool(await app.state.service.db.run(match_index.index_is_current))

        await wait_for(reindexed, message="the stored indexes were never computed again")
    again = await _submit(referral_service, _person("Aysel", "Zeynalova", "1997-01-30"))
    assert again["status"] == "closed"
    [flag] = (await cases.view(referral_service, again["id"]))["flags"]
    assert flag["related_referral_id"] == stored["id"]  # the earliest open case


@pytest.fixture
async def second_replica(
    referral_service: ReferralService, database_url: str
) -> AsyncIterator[httpx.AsyncClient]:
    """Another referral process on the same database: its own engine and transactions."""
    settings = bootstrap.Settings(
        redis_url=referral_service.redis_url, database_url=database_url, consumer_name="replica-2"
    )
    app = bootstrap.build_app(settings)
    service: RunningService = app.state.service
    async with app.router.lifespan_context(app):
        assert service.started
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://replica") as client:
            yield client


async def test_the_same_person_sent_to_two_replicas_at_once_is_coordinated_once(
    referral_service: ReferralService, second_replica: httpx.AsyncClient
) -> None:
    people = [_person("Aysel", f"Racetest{n}", "2000-01-01") for n in range(8)]

    async def send(client: httpx.AsyncClient, body: dict[str, Any]) -> str:
        headers = referral_service.headers(idempotency=uuid.uuid4().hex)
        answer = await client.post("/v1/referrals", json=body, headers=headers)
        assert answer.status_code == 202, answer.text
        status: str = answer.json()["status"]
        return status

    for body in people:
        statuses = await asyncio.gather(
            send(referral_service.client, body), send(second_replica, body)
        )
        assert sorted(statuses) == ["closed", "coordinating"], body["person"]["family_name"]


async def test_an_agency_that_knows_it_is_another_person_overrules_the_link_and_it_is_coordinated(
    referral_service: ReferralService,
) -> None:
    # Two women of one common name, born the same day: matched, though not the same person.
    await _submit(referral_service, _person("Aygün", "Əliyeva", "1999-03-08"))
    linked = await _submit(referral_service, _person("Aygun", "Eliyeva", "1999-03-08"))
    assert linked["status"] == "closed"

    overrule = f"/v1/referrals/{linked['id']}/not-a-duplicate"
    elsewhere = await referral_service.client.post(
        overrule, headers=referral_service.headers(referral_service.other_key, idempotency=None)
    )
    assert elsewhere.status_code == 404  # only the referring organization knows whom it met
    answer = await referral_service.client.post(
        overrule, headers=referral_service.headers(idempotency=None)
    )
    assert answer.status_code == 200, answer.text
    view = answer.json()
    assert view["status"] == "coordinating"
    assert {service: task["status"] for service, task in view["services"].items()} == {
        "shelter": "requested", "employment": "requested", "legal_aid": "requested"
    }  # fmt: skip
    [flag] = view["flags"]
    assert flag["kind"] == "possible_duplicate" and flag["resolved_at"] is not None
    assert "duplicate_overruled" in [step["status"] for step in view["history"]]
    assert await _tasks_of(referral_service, linked["id"]) == 3
    # The shelter is asked, with coarse attributes only; the others once it answers.
    for stream in ("korpu.shelter.requests",):
        # Sent by the relay after the commit: waited for, not read at once.
        entries = await bus.wait_for_events(
            referral_service.redis_url,
            stream,
            lambda found: any(event.subject == linked["id"] for event in found),
            message=f"no request on {stream}",
        )
        mine = [event.to_json() for event in entries if event.subject == linked["id"]]
        assert mine and "Aygun" not in str(mine) and "1999" not in str(mine)

    again = await referral_service.client.post(
        overrule, headers=referral_service.headers(idempotency=None)
    )
    assert again.status_code == 409  # no longer linked: it is coordinated once, not twice
