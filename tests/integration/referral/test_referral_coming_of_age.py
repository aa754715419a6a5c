"""A child who turns 18 while their case is open is flagged once for their own consent."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import sqlalchemy as sa

from korpu_contracts import streams
from korpu_contracts.vocabulary import Consent, Purpose, Service, TaskStatus
from referral.adapters import audit, tables
from referral.domain import exceptions
from referral.entrypoints import coming_of_age
from referral.service_layer import consent
from support import bus, cases
from support.infra import wait_for
from support.referrals import ReferralService, referral_body

# The day the children below turn 18: a month from now, so they are children today.
BIRTHDAY = dt.date.today() + dt.timedelta(days=30)


def _born_18_years_before(day: dt.date) -> dt.date:
    try:
        return day.replace(year=day.year - 18)
    except ValueError:  # 29 February: born on the 1st of March, 18 on the 1st of March
        return dt.date(day.year - 18, 3, 1)


def _child(
    name: str, needs: tuple[str, ...] = ("shelter", "legal_aid"), turns_18: dt.date = BIRTHDAY
) -> dict[str, Any]:
    """A girl turning 18 on `turns_18`, referred with no consent of her own needed."""
    body = referral_body(needs=list(needs), consent={need: "not_required_child" for need in needs})
    birth = _born_18_years_before(turns_18).isoformat()
    body["person"] = {**body["person"], "given_name": name, "date_of_birth": birth}
    return body


def _review(referral_service: ReferralService) -> coming_of_age.ConsentReview:
    return next(
        part
        for part in referral_service.service.parts
        if isinstance(part, coming_of_age.ConsentReview)
    )


def _flags(view: dict[str, Any]) -> list[tuple[str, bool]]:
    return [(flag["kind"], flag["resolved_at"] is None) for flag in view["flags"]]


def _steps(view: dict[str, Any]) -> list[str]:
    return [entry["status"] for entry in view["history"]]


@pytest.mark.parametrize("days_after", [0, 1], ids=["birthday-today", "birthday-yesterday"])
async def test_a_child_turning_18_is_flagged_once_and_keeps_what_was_given(
    referral_service: ReferralService, days_after: int
) -> None:
    referral_id = await cases.submit(referral_service, _child("Aygun"), "c-1")
    await cases.answer(referral_service, referral_id, Service.SHELTER, TaskStatus.ACCEPTED)
    await cases.wait_for_service_status(
        referral_service, referral_id, Service.SHELTER, TaskStatus.ACCEPTED
    )
    review = _review(referral_service)
    today = BIRTHDAY + dt.timedelta(days=days_after)

    assert await review.run_once(today=BIRTHDAY - dt.timedelta(days=1)) == []
    assert await review.run_once(today=today) == [referral_id]
    assert await review.run_once(today=today) == []
    assert await review.run_once(today=today + dt.timedelta(days=1)) == []

    view = await cases.view(referral_service, referral_id)
    assert _flags(view) == [("consent_review_due", True)]
    assert _steps(view).count("consent_review_due") == 1
    # Not put out of the shelter on her birthday: the agency decides.
    assert view["services"]["shelter"]["status"] == "accepted"
    assert view["consent"]["shelter"] == "not_required_child"
    events = await bus.wait_for_events(
        referral_service.redis_url,
        referral_service.status,
        lambda found: any(e.data.get("flags") == ["consent_review_due"] for e in found),
        message="the agency was not told of the review due",
    )
    told = [e for e in events if e.data.get("flags") == ["consent_review_due"]]
    assert len(told) == 1 and told[0].subject == referral_id


@pytest.mark.parametrize(
    ("who", "child"),
    [
        ({"given_name": "Adult", "date_of_birth": "2001-04-12"}, False),
        ({"given_name": "Unknown", "date_of_birth": None, "possibly_minor": True}, True),
        ({"given_name": "Estimate", "date_of_birth": None, "age_estimate": 17}, True),
        # Stated 18 already when referred, presumed a child anyway: the stated
        # date is doubted, so its birthday is no signal.
        ({"given_name": "Doubted", "date_of_birth": "2001-04-12", "possibly_minor": True}, True),
    ],
    ids=["adult", "possibly-minor-no-birth-date", "estimated-17", "stated-adult-presumed-child"],
)
async def test_no_one_is_flagged_without_an_18th_birthday_during_the_case(
    referral_service: ReferralService, who: dict[str, Any], child: bool
) -> None:
    body = referral_body()
    body["person"] = {**body["person"], **who}
    referral_id = await cases.submit(referral_service, body, "c-1")
    # Each case is what it says, a child or not, so no flag below is for want of a child.
    [requested] = await bus.wait_for_events(
        referral_service.redis_url,
        streams.SHELTER_REQUESTS,
        lambda found: len(found) == 1,
        message="the shelter was not asked",
    )
    assert requested.data["is_child"] is child

    assert await _review(referral_service).run_once(today=BIRTHDAY + dt.timedelta(days=400)) == []

    assert (await cases.view(referral_service, referral_id))["flags"] == []


async def test_a_withdrawn_case_or_one_with_every_task_ended_is_not_flagged(
    referral_service: ReferralService,
) -> None:
    withdrawn = await cases.submit(referral_service, _child("Withdrawn"), "c-1")
    await referral_service.client.post(
        f"/v1/referrals/{withdrawn}/withdraw", headers=referral_service.headers()
    )
    ended = await cases.submit(referral_service, _child("Ended", needs=("shelter",)), "c-2")
    await cases.answer(referral_service, ended, Service.SHELTER, TaskStatus.REJECTED)
    await cases.wait_for_service_status(
        referral_service, ended, Service.SHELTER, TaskStatus.REJECTED
    )

    assert await _review(referral_service).run_once(today=BIRTHDAY) == []


async def test_the_agencys_own_answers_for_each_purpose_settle_the_review(
    referral_service: ReferralService,
) -> None:
    referral_id = await cases.submit(referral_service, _child("Nazrin"), "c-1")
    await _review(referral_service).run_once(today=BIRTHDAY)
    actor = await _actor(referral_service)

    # Still standing on not_required_child for legal aid: the review stays open.
    await _change(referral_service, actor, referral_id, Purpose(Service.SHELTER), Consent.GRANTED)
    view = await cases.view(referral_service, referral_id)
    assert _flags(view) == [("consent_review_due", True)]
    await _change(referral_service, actor, referral_id, Purpose(Service.LEGAL_AID), Consent.REFUSED)

    view = await cases.view(referral_service, referral_id)
    assert _flags(view) == [("consent_review_due", False)]
    assert view["services"]["shelter"]["status"] == "requested"
    assert view["services"]["legal_aid"] == {
        "status": "cancelled",
        "reason": "withdrawn",
        "detail": {},
    }
    assert _steps(view)[-3:] == ["consent_changed", "cancelled", "consent_reviewed"]
    # Settled for good: the next sweep does not raise it again.
    assert await _review(referral_service).run_once(today=BIRTHDAY + dt.timedelta(days=1)) == []
    with pytest.raises(exceptions.NotAChild):
        await _change(
            referral_service,
            actor,
            referral_id,
            Purpose(Service.SHELTER),
            Consent.NOT_REQUIRED_CHILD,
        )


async def test_an_answer_after_the_birthday_but_before_the_sweep_raises_and_settles_at_once(
    referral_service: ReferralService,
) -> None:
    body = _child("Fidan", needs=("shelter",))
    referral_id = await cases.submit(referral_service, body, "c-1")
    actor = await _actor(referral_service)

    await _change(referral_service, actor, referral_id, Purpose(Service.SHELTER), Consent.GRANTED)

    view = await cases.view(referral_service, referral_id)
    assert _flags(view) == [("consent_review_due", False)]
    assert _steps(view)[-3:] == ["consent_changed", "consent_review_due", "consent_reviewed"]
    assert await _review(referral_service).run_once(today=BIRTHDAY) == []


async def test_the_loop_looks_on_its_own_at_the_interval_from_settings(
    referral_service: ReferralService,
) -> None:
    referral_id = await cases.submit(referral_service, _child("Samira"), "c-1")
    loop = coming_of_age.ConsentReview(
        referral_service.service.transaction, interval_seconds=0.05, today=lambda: BIRTHDAY
    )
    loop.start()
    try:

        async def flagged() -> bool:
            view = await cases.view(referral_service, referral_id)
            return _flags(view) == [("consent_review_due", True)]

        await wait_for(flagged, message="the periodic look never flagged the case")
    finally:
        await loop.stop()


async def test_the_sweep_records_the_birth_dates_it_read_and_each_flag(
    referral_service: ReferralService,
) -> None:
    flagged = await cases.submit(referral_service, _child("Vusala"), "c-1")
    later = _child("Later", turns_18=BIRTHDAY + dt.timedelta(days=60))
    await cases.submit(referral_service, later, "c-2")

    await _review(referral_service).run_once(today=BIRTHDAY)

    query = sa.select(tables.audit_log).where(tables.audit_log.c.actor_kind == audit.SYSTEM)
    rows = await referral_service.service.db.run(lambda conn: list(conn.execute(query)))
    entries = [(row.action, row.referral_id, row.detail) for row in rows]
    assert (audit.BIRTH_DATES_READ, None, {"cases": 2}) in entries
    assert (audit.CONSENT_REVIEW_FLAGGED, flagged, {}) in entries
    assert len(entries) == 2


async def _actor(referral_service: ReferralService) -> audit.Actor:
    query = sa.select(tables.api_keys.c.id).where(
        tables.api_keys.c.organization_id == referral_service.organization_id
    )
    key_id = await referral_service.service.db.run(lambda conn: conn.execute(query).scalar())
    return audit.api_key(str(key_id), referral_service.organization_id)


async def _change(
    referral_service: ReferralService,
    actor: audit.Actor,
    referral_id: str,
    purpose: Purpose,
    given: Consent,
) -> None:
    """A consent change as the HTTP route makes it, on a day after the 18th birthday."""
    day = BIRTHDAY + dt.timedelta(days=2)
    found = await referral_service.service.transaction(
        lambda uow: consent.change(uow, actor, referral_id, purpose, given, today=day)
    )
    assert found
