"""The coordinator follows every task to an answer and withdraws them all (real Redis and DB)."""

from __future__ import annotations

from typing import Any

from korpu_contracts import providers, referral, streams
from korpu_contracts.envelope import Envelope
from korpu_contracts.vocabulary import Reason, Service, TaskStatus
from korpu_runtime import redelivery
from referral.entrypoints import consumers
from support import bus, cases
from support.infra import wait_for
from support.referrals import ReferralService, referral_body


async def _submit(referral_service: ReferralService, key: str = "k-1") -> str:
    answer = await referral_service.client.post(
        "/v1/referrals", json=referral_body(), headers=referral_service.headers(idempotency=key)
    )
    assert answer.status_code == 202
    referral_id: str = answer.json()["id"]
    return referral_id


async def _request(referral_service: ReferralService, referral_id: str, service: str) -> Envelope:
    events = await bus.wait_for_events(
        referral_service.redis_url,
        streams.REQUESTS_BY_SERVICE[service],
        lambda events: any(e.subject == referral_id for e in events),
        message=f"no {service} request",
    )
    return next(e for e in events if e.subject == referral_id)


async def _requests(
    referral_service: ReferralService,
    referral_id: str,
    status: TaskStatus = TaskStatus.ACCEPTED,
    **detail: Any,
) -> dict[str, Envelope]:
    """Every request of the referral: the shelter answers as told, then the others are sent."""
    shelter = await _request(referral_service, referral_id, "shelter")
    await _answer(referral_service, shelter, status, **detail)
    found = {"shelter": shelter}
    for service in ("employment", "legal_aid"):
        found[service] = await _request(referral_service, referral_id, service)
    return found


async def _answer(
    referral_service: ReferralService,
    request: Envelope,
    status: TaskStatus,
    reason: Reason | None = None,
    written_over: dict[str, Any] | None = None,
    **detail: Any,
) -> None:
    asked = referral.TaskRequested.model_validate(request.data)
    update = providers.TaskUpdated(
        task_id=asked.task_id,
        referral_id=asked.referral_id,
        service=asked.service,
        status=status,
        reason=reason,
        detail=detail,
    )
    stream = streams.UPDATES_BY_SERVICE[asked.service]
    await bus.publish(
        referral_service.redis_url, stream, update, request.subject, written_over=written_over
    )


async def _view(referral_service: ReferralService, referral_id: str) -> dict[str, Any]:
    answer = await referral_service.client.get(
        f"/v1/referrals/{referral_id}", headers=referral_service.headers()
    )
    view: dict[str, Any] = answer.json()
    return view


async def test_a_referral_is_coordinated_when_every_task_has_an_answer(
    referral_service: ReferralService,
) -> None:
    referral_id = await _submit(referral_service)
    requests = await _requests(referral_service, referral_id, facility="Baku")
    await _answer(referral_service, requests["employment"], TaskStatus.ON_HOLD, Reason.NO_CAPACITY)

    async def still_coordinating() -> bool:
        view = await _view(referral_service, referral_id)
        return view["services"]["employment"]["status"] == "on-hold"

    await wait_for(still_coordinating, message="employment answer not recorded")
    assert (await _view(referral_service, referral_id))["status"] == "coordinating"

    await _answer(referral_service, requests["legal_aid"], TaskStatus.ACCEPTED, lawyer="R. Quliyev")

    async def coordinated() -> dict[str, Any] | None:
        view = await _view(referral_service, referral_id)
        return view if view["status"] == "coordinated" else None

    view = await wait_for(coordinated, message="referral never coordinated")
    assert view["services"]["shelter"] == {
        "status": "accepted",
        "reason": None,
        "detail": {"facility": "Baku"},
    }
    assert view["services"]["legal_aid"]["detail"] == {"lawyer": "R. Quliyev"}
    statuses = [(entry["service"], entry["status"]) for entry in view["history"]]
    assert ("employment", "on-hold") in statuses and (None, "coordinated") in statuses
    # Every answer flows back to the agency on the status stream.
    status_events = await bus.wait_for_events(
        referral_service.redis_url,
        referral_service.status,
        lambda events: any(e.data["status"] == "coordinated" for e in events),
    )
    assert status_events[-1].data["organization_id"] == referral_service.organization_id


async def test_a_new_waitlist_position_reaches_the_agency_but_is_no_step_in_the_history(
    referral_service: ReferralService,
) -> None:
    referral_id = await _submit(referral_service)
    shelter = await _request(referral_service, referral_id, "shelter")
    await _answer(
        referral_service, shelter, TaskStatus.ON_HOLD, Reason.NO_CAPACITY, waitlist_position=2
    )
    # Someone ahead was placed: same status and reason, a new place in line.
    await _answer(
        referral_service, shelter, TaskStatus.ON_HOLD, Reason.NO_CAPACITY, waitlist_position=1
    )

    async def moved_up() -> dict[str, Any] | None:
        view = await _view(referral_service, referral_id)
        return view if view["services"]["shelter"]["detail"] == {"waitlist_position": 1} else None

    view = await wait_for(moved_up, message="the new position was not recorded")
    assert view["services"]["shelter"]["status"] == "on-hold"
    assert [e["status"] for e in view["history"] if e["service"] == "shelter"] == [
        "requested",
        "on-hold",
    ]
    await bus.wait_for_events(
        referral_service.redis_url,
        referral_service.status,
        lambda events: any(
            e.data["services"]["shelter"]["detail"] == {"waitlist_position": 1} for e in events
        ),
        message="the agency was not told the new position",
    )


async def test_withdrawal_cancels_every_open_task_and_late_answers_change_nothing(
    referral_service: ReferralService,
) -> None:
    referral_id = await _submit(referral_service)
    requests = await _requests(referral_service, referral_id, facility="Baku")

    async def shelter_accepted() -> bool:
        view = await _view(referral_service, referral_id)
        return view["services"]["shelter"]["status"] == "accepted"

    await wait_for(shelter_accepted)
    withdrawn = await referral_service.client.post(
        f"/v1/referrals/{referral_id}/withdraw", headers=referral_service.headers()
    )
    assert withdrawn.status_code == 200
    assert withdrawn.json()["status"] == "withdrawn"
    assert {s["status"] for s in withdrawn.json()["services"].values()} == {"cancelled"}

    for service in requests:  # every service the referral needed
        events = await bus.wait_for_events(
            referral_service.redis_url,
            streams.REQUESTS_BY_SERVICE[service],
            lambda events: any(e.type == referral.TaskCancelled.TYPE for e in events),
            message=f"{service} never told of the withdrawal",
        )
        cancelled = next(e for e in events if e.type == referral.TaskCancelled.TYPE)
        assert cancelled.data["reason"] == "withdrawn"

    # An answer that crossed the withdrawal on the wire does not bring a task back.
    await _answer(referral_service, requests["legal_aid"], TaskStatus.ACCEPTED, lawyer="X")

    async def both_processed() -> bool:
        redis = referral_service.service.redis
        answered = (streams.SHELTER_UPDATES, streams.LEGAL_AID_UPDATES)
        infos = [(await redis.xinfo_groups(stream))[0] for stream in answered]
        return all(info["pending"] == 0 and info["entries-read"] == 1 for info in infos)

    await wait_for(both_processed, message="task updates not consumed")
    view = await _view(referral_service, referral_id)
    assert view["status"] == "withdrawn"
    assert view["services"]["legal_aid"]["status"] == "cancelled"


async def test_an_answer_about_a_task_never_created_is_left_pending_not_dropped(
    referral_service: ReferralService,
) -> None:
    # Only a lost or wrong database explains it: the entry is kept for retries and
    # then the dead letters, where an operator can replay it once the data is back.
    stray = providers.TaskUpdated(
        task_id="never-created",
        referral_id="no-such-referral",
        service=Service.SHELTER,
        status=TaskStatus.ACCEPTED,
        revision=1,
    )
    stream = streams.SHELTER_UPDATES
    await bus.publish(referral_service.redis_url, stream, stray, "no-such-referral")

    redis = referral_service.service.redis
    (subscription,) = [s for s in consumers.SUBSCRIPTIONS if s.stream == streams.SHELTER_UPDATES]

    async def failed() -> list[bytes]:
        return list((await redis.hgetall(redelivery.errors_key(subscription))).values())

    errors = await wait_for(failed, message="the stray answer was never handled")
    assert errors == [b"UnknownTask: never-created"]
    info = await redis.xinfo_groups(streams.SHELTER_UPDATES)
    assert info[0]["pending"] == 1, "the stray answer was acknowledged, so dropped"


async def test_an_answer_in_a_status_added_later_is_taken_and_leaves_the_task_as_it_was(
    referral_service: ReferralService,
) -> None:
    # A shelter upgraded before the referral service answers in a word this build
    # does not know: acknowledged and logged, never retried nor dead-lettered, the
    # task and the agency's view unchanged; the shelter's next answer applies.
    referral_id = await _submit(referral_service)
    shelter = await _request(referral_service, referral_id, "shelter")
    redis = referral_service.service.redis
    told = await redis.xlen(referral_service.status)
    added_later = {"status": "referred_on", "reason": "tutoring"}

    await _answer(referral_service, shelter, TaskStatus.ON_HOLD, written_over=added_later)

    async def consumed() -> bool:
        (info,) = await redis.xinfo_groups(streams.SHELTER_UPDATES)
        return bool(info["pending"] == 0 and info["entries-read"] == 1)

    await wait_for(consumed, message="the answer was not acknowledged")
    (subscription,) = [s for s in consumers.SUBSCRIPTIONS if s.stream == streams.SHELTER_UPDATES]
    assert await redis.hgetall(redelivery.errors_key(subscription)) == {}
    assert await redis.xlen(streams.dead_letters("referral")) == 0
    view = await _view(referral_service, referral_id)
    assert view["services"]["shelter"]["status"] == "requested"
    assert await redis.xlen(referral_service.status) == told

    await _answer(referral_service, shelter, TaskStatus.ACCEPTED, facility="Baku")
    await cases.wait_for_service_status(
        referral_service, referral_id, Service.SHELTER, TaskStatus.ACCEPTED
    )


async def test_a_course_and_a_lawyer_are_asked_for_where_the_shelter_housed_the_person(
    referral_service: ReferralService,
) -> None:
    body = referral_body(region="Gəncə")
    answer = await referral_service.client.post(
        "/v1/referrals", json=body, headers=referral_service.headers(idempotency="ganja")
    )
    referral_id = answer.json()["id"]
    shelter = await _request(referral_service, referral_id, "shelter")
    assert shelter.data["region"] == "AZ-GA"  # the code, however the agency wrote it

    # Nothing else is asked until the shelter answers: nobody knows yet where the person sleeps.
    view = await _view(referral_service, referral_id)
    assert view["services"]["employment"]["status"] == "requested"
    for stream in (streams.EMPLOYMENT_REQUESTS, streams.LEGAL_AID_REQUESTS):
        assert await referral_service.service.redis.xlen(stream) == 0

    housed = {"facility": "Baku police shelter", "region": "AZ-BA", "out_of_region": True}
    await _answer(referral_service, shelter, TaskStatus.ACCEPTED, **housed)
    for service in ("employment", "legal_aid"):
        asked = await _request(referral_service, referral_id, service)
        assert asked.data["region"] == "AZ-BA", service
        assert asked.causationid is not None  # caused by the shelter's answer

    view = await _view(referral_service, referral_id)
    assert view["services"]["shelter"]["detail"]["out_of_region"] is True


async def test_a_withdrawal_before_the_shelter_answers_tells_only_the_shelter(
    referral_service: ReferralService,
) -> None:
    referral_id = await _submit(referral_service)
    await _request(referral_service, referral_id, "shelter")

    withdrawn = await referral_service.client.post(
        f"/v1/referrals/{referral_id}/withdraw", headers=referral_service.headers()
    )

    assert {s["status"] for s in withdrawn.json()["services"].values()} == {"cancelled"}
    await bus.wait_for_events(
        referral_service.redis_url,
        streams.SHELTER_REQUESTS,
        lambda events: any(e.type == referral.TaskCancelled.TYPE for e in events),
        message="the shelter was not told",
    )
    for stream in (streams.EMPLOYMENT_REQUESTS, streams.LEGAL_AID_REQUESTS):
        assert await referral_service.service.redis.xlen(stream) == 0
