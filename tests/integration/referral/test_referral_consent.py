"""Consent changed per service after submission: the task follows, history and trail record it."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa

from korpu_contracts import providers, referral, streams
from korpu_contracts.envelope import Envelope
from korpu_contracts.vocabulary import Service, TaskStatus
from referral.adapters import organizations, tables
from support import bus, cases
from support.infra import wait_for
from support.referrals import ReferralService, referral_body


async def _change(
    referral_service: ReferralService,
    referral_id: str,
    body: dict[str, Any],
    key: str | None = None,
) -> Any:
    return await referral_service.client.post(
        f"/v1/referrals/{referral_id}/consent",
        json=body,
        headers=referral_service.headers(key=key, idempotency=None),
    )


async def _requests(
    referral_service: ReferralService, service: Service, referral_id: str, count: int
) -> list[Envelope]:
    """The service's task requests for the referral, once there are `count` of them."""

    def mine(events: list[Envelope]) -> list[Envelope]:
        return [
            e for e in events if e.subject == referral_id and e.type == referral.TaskRequested.TYPE
        ]

    events = await bus.wait_for_events(
        referral_service.redis_url,
        streams.REQUESTS_BY_SERVICE[service],
        lambda found: len(mine(found)) >= count,
        message=f"{count} {service} request(s) never sent",
    )
    return mine(events)


async def _cancellations(
    referral_service: ReferralService, service: Service, referral_id: str, count: int = 0
) -> list[Envelope]:
    """The service's cancellations for the referral, once there are at least `count`."""

    def mine(events: list[Envelope]) -> list[Envelope]:
        return [
            e for e in events if e.subject == referral_id and e.type == referral.TaskCancelled.TYPE
        ]

    events = await bus.wait_for_events(
        referral_service.redis_url,
        streams.REQUESTS_BY_SERVICE[service],
        lambda found: len(mine(found)) >= count,
        message=f"{count} {service} cancellation(s) never sent",
    )
    return mine(events)


async def _answer(
    referral_service: ReferralService, request: Envelope, status: TaskStatus, **detail: Any
) -> None:
    asked = referral.TaskRequested.model_validate(request.data)
    update = providers.TaskUpdated(
        task_id=asked.task_id,
        referral_id=asked.referral_id,
        service=asked.service,
        status=status,
        detail=detail,
    )
    stream = streams.UPDATES_BY_SERVICE[asked.service]
    await bus.publish(referral_service.redis_url, stream, update, request.subject)


async def _all_sent(referral_service: ReferralService) -> None:
    """Wait until the relay has published every event committed so far."""
    outbox = tables.outbox
    query = sa.select(sa.func.count()).where(outbox.c.published_at.is_(None))

    async def none_left() -> bool:
        left = await referral_service.service.db.run(lambda conn: conn.execute(query).scalar())
        return left == 0

    await wait_for(none_left, message="events left unpublished in the outbox")


def _consent_steps(view: dict[str, Any]) -> list[tuple[str | None, str | None]]:
    return [
        (e["purpose"], e["consent"]) for e in view["history"] if e["status"] == "consent_changed"
    ]


def _body(name: str, **overrides: Any) -> dict[str, Any]:
    """A referral of its own person: the same person twice would be linked as a duplicate."""
    body = referral_body(**overrides)
    body["person"] = {**body["person"], "given_name": name}
    return body


async def test_consent_withdrawn_for_shelter_cancels_the_shelter_task_and_only_it(
    referral_service: ReferralService,
) -> None:
    referral_id = await cases.submit(referral_service, _body("Leyla"), "c-1")
    (shelter,) = await _requests(referral_service, Service.SHELTER, referral_id, 1)
    await _answer(referral_service, shelter, TaskStatus.ACCEPTED, facility="Baku")
    await cases.wait_for_service_status(
        referral_service, referral_id, Service.SHELTER, TaskStatus.ACCEPTED
    )

    answer = await _change(
        referral_service, referral_id, {"purpose": "shelter", "consent": "withdrawn"}
    )

    assert answer.status_code == 200, answer.text
    view = answer.json()
    assert view["services"]["shelter"]["status"] == "cancelled"
    assert view["services"]["shelter"]["reason"] == "withdrawn"
    assert view["services"]["employment"]["status"] == "requested"
    assert view["consent"]["shelter"] == "withdrawn"
    assert view["status"] == "coordinating"
    (cancelled,) = await _cancellations(referral_service, Service.SHELTER, referral_id, 1)
    assert cancelled.data["task_id"] == shelter.data["task_id"]
    assert cancelled.data["reason"] == "withdrawn"
    await _all_sent(referral_service)
    assert await _cancellations(referral_service, Service.EMPLOYMENT, referral_id) == []
    # History: the consent change, then what it did to the task.
    steps = [(e["status"], e["service"], e["purpose"], e["consent"]) for e in view["history"]]
    assert steps[-2:] == [
        ("consent_changed", "shelter", "shelter", "withdrawn"),
        ("cancelled", "shelter", None, None),
    ]
    # The agency is told, with the consent as now given.
    events = await bus.wait_for_events(
        referral_service.redis_url,
        referral_service.status,
        lambda found: any(
            (e.data.get("consent") or {}).get("shelter") == "withdrawn" for e in found
        ),
        message="the agency was not told of the consent change",
    )
    told = next(e for e in events if (e.data.get("consent") or {}).get("shelter") == "withdrawn")
    assert told.data["services"]["shelter"]["status"] == "cancelled"


async def test_a_refusal_of_the_shelter_sends_what_waited_for_it_and_the_case_is_coordinated(
    referral_service: ReferralService,
) -> None:
    body = _body("Gulnar", needs=["shelter", "legal_aid"])
    referral_id = await cases.submit(referral_service, body, "c-1")
    await _requests(referral_service, Service.SHELTER, referral_id, 1)

    answer = await _change(
        referral_service, referral_id, {"purpose": "shelter", "consent": "refused"}
    )

    view = answer.json()
    assert view["services"]["shelter"] == {
        "status": "cancelled",
        "reason": "withdrawn",
        "detail": {},
    }
    # The lawyer waited for the shelter's answer; with no shelter, it is asked for now,
    # where the person was referred.
    assert view["status"] == "coordinating"
    (lawyer,) = await _requests(referral_service, Service.LEGAL_AID, referral_id, 1)
    assert lawyer.data["region"] == "AZ-BA"
    await _answer(referral_service, lawyer, TaskStatus.ACCEPTED, lawyer="R. Quliyev")
    await cases.wait_for_service_status(
        referral_service, referral_id, Service.LEGAL_AID, TaskStatus.ACCEPTED
    )
    view = await cases.view(referral_service, referral_id)
    assert view["status"] == "coordinated"
    assert [e["status"] for e in view["history"]][-4:] == [
        "consent_changed",
        "cancelled",
        "accepted",
        "coordinated",
    ]


async def test_consent_granted_after_consent_missing_requests_the_task_and_it_is_coordinated(
    referral_service: ReferralService,
) -> None:
    consent = {"shelter": "granted", "employment": "refused", "legal_aid": "granted"}
    referral_id = await cases.submit(referral_service, _body("Nigar", consent=consent), "c-1")
    before = await cases.view(referral_service, referral_id)
    assert before["services"]["employment"]["reason"] == "consent_missing"
    for service in (Service.SHELTER, Service.LEGAL_AID):
        (request,) = await _requests(referral_service, service, referral_id, 1)
        await _answer(referral_service, request, TaskStatus.ACCEPTED)
    await cases.wait_for_service_status(
        referral_service, referral_id, Service.LEGAL_AID, TaskStatus.ACCEPTED
    )
    assert (await cases.view(referral_service, referral_id))["status"] == "coordinated"

    answer = await _change(
        referral_service, referral_id, {"purpose": "employment", "consent": "granted"}
    )

    view = answer.json()
    assert view["services"]["employment"] == {"status": "requested", "reason": None, "detail": {}}
    assert view["status"] == "coordinating"
    (request,) = await _requests(referral_service, Service.EMPLOYMENT, referral_id, 1)
    asked = referral.TaskRequested.model_validate(request.data)
    # Coarse attributes as at submission, read back from the sealed person.
    assert (asked.region, asked.sex, asked.languages) == ("AZ-BA", "female", ["az", "ru"])
    assert asked.is_child is False and asked.safety_risk == "high"
    await _answer(referral_service, request, TaskStatus.ACCEPTED, program="Tailoring")

    async def coordinated() -> dict[str, Any] | None:
        found = await cases.view(referral_service, referral_id)
        return found if found["status"] == "coordinated" else None

    final = await wait_for(coordinated, message="the granted task was never coordinated")
    assert final["services"]["employment"]["detail"] == {"program": "Tailoring"}
    assert [e["status"] for e in final["history"] if e["service"] == "employment"] == [
        "rejected",
        "consent_changed",
        "requested",
        "accepted",
    ]


async def test_consent_given_again_after_a_withdrawal_sends_a_new_task_and_the_old_one_stays_ended(
    referral_service: ReferralService,
) -> None:
    referral_id = await cases.submit(
        referral_service, _body("Sevinc", needs=["shelter"], consent={"shelter": "granted"}), "c-1"
    )
    (first,) = await _requests(referral_service, Service.SHELTER, referral_id, 1)
    await _change(referral_service, referral_id, {"purpose": "shelter", "consent": "withdrawn"})

    answer = await _change(
        referral_service, referral_id, {"purpose": "shelter", "consent": "granted"}
    )

    assert answer.json()["services"]["shelter"]["status"] == "requested"
    first_again, second = await _requests(referral_service, Service.SHELTER, referral_id, 2)
    assert first_again.data["task_id"] == first.data["task_id"]
    assert second.data["task_id"] != first.data["task_id"]
    # The provider's answer about the old task comes late: known, and changes nothing.
    await _answer(referral_service, first, TaskStatus.CANCELLED)
    await _answer(referral_service, second, TaskStatus.ON_HOLD, waitlist_position=3)
    view = await cases.wait_for_service_status(
        referral_service, referral_id, Service.SHELTER, TaskStatus.ON_HOLD
    )
    assert view["services"]["shelter"]["detail"] == {"waitlist_position": 3}

    async def all_handled() -> bool:
        info = await referral_service.service.redis.xinfo_groups(streams.SHELTER_UPDATES)
        return bool(info[0]["pending"] == 0 and info[0]["entries-read"] == 2)

    await wait_for(all_handled, message="the late answer about the old task was not acknowledged")
    assert [e["status"] for e in view["history"] if e["service"] == "shelter"] == [
        "requested",
        "consent_changed",
        "cancelled",
        "consent_changed",
        "requested",
        "on-hold",
    ]


async def test_the_same_change_twice_changes_and_tells_things_once(
    referral_service: ReferralService,
) -> None:
    referral_id = await cases.submit(referral_service, _body("Aynur"), "c-1")
    change = {"purpose": "legal_aid", "consent": "withdrawn"}

    first = await _change(referral_service, referral_id, change)
    second = await _change(referral_service, referral_id, change)

    assert (first.status_code, second.status_code) == (200, 200)
    assert first.json()["services"] == second.json()["services"]
    assert _consent_steps(second.json()) == [("legal_aid", "withdrawn")]
    await _all_sent(referral_service)
    assert len(await _cancellations(referral_service, Service.LEGAL_AID, referral_id)) == 1
    told = await bus.read_events(
        referral_service.redis_url, referral_service.status, referral.ReferralStatusChanged.TYPE
    )
    assert len([e for e in told if e.subject == referral_id and e.data["consent"]]) == 1


async def test_reporting_consent_is_stored_and_in_the_history_but_touches_no_task(
    referral_service: ReferralService,
) -> None:
    referral_id = await cases.submit(referral_service, _body("Ulviyya"), "c-1")

    answer = await _change(
        referral_service, referral_id, {"purpose": "reporting", "consent": "granted"}
    )

    view = answer.json()
    assert view["consent"]["reporting"] == "granted"
    assert {s["status"] for s in view["services"].values()} == {"requested"}
    reporting = [e for e in view["history"] if e["purpose"] == "reporting"]
    assert [(e["status"], e["service"], e["consent"]) for e in reporting] == [
        ("consent_changed", None, "granted")
    ]


async def test_every_change_is_in_the_audit_trail_by_key_with_no_personal_data(
    referral_service: ReferralService,
) -> None:
    referral_id = await cases.submit(referral_service, _body("Kamala"), "c-1")
    await _change(referral_service, referral_id, {"purpose": "employment", "consent": "refused"})
    await _change(referral_service, referral_id, {"purpose": "employment", "consent": "refused"})

    query = (
        sa.select(tables.audit_log)
        .where(tables.audit_log.c.action == "consent_changed")
        .order_by(tables.audit_log.c.id)
    )
    rows = await referral_service.service.db.run(lambda conn: list(conn.execute(query)))
    assert [(r.actor_kind, r.organization_id, r.referral_id) for r in rows] == [
        ("api_key", referral_service.organization_id, referral_id)
    ] * 2
    assert [r.detail for r in rows] == [
        {"purpose": "employment", "consent": "refused", "changed": True},
        {"purpose": "employment", "consent": "refused", "changed": False},
    ]


async def test_another_organization_gets_404_and_changes_nothing(
    referral_service: ReferralService,
) -> None:
    referral_id = await cases.submit(referral_service, _body("Turkan"), "c-1")

    answer = await _change(
        referral_service,
        referral_id,
        {"purpose": "shelter", "consent": "withdrawn"},
        key=referral_service.other_key,
    )

    assert answer.status_code == 404
    assert answer.headers["content-type"] == "application/problem+json"
    view = await cases.view(referral_service, referral_id)
    assert view["consent"]["shelter"] == "granted"
    assert view["services"]["shelter"]["status"] == "requested"
    assert _consent_steps(view) == []


@pytest.mark.parametrize(
    "body",
    [
        {"purpose": "shelter"},
        {"purpose": "fortune_telling", "consent": "granted"},  # no such service
        {"purpose": "shelter", "consent": "maybe"},
        {"purpose": "shelter", "consent": "granted", "reason": "asked again"},
        {"purpose": ["shelter"], "consent": "granted"},
    ],
    ids=["no-consent", "unknown-purpose", "unknown-consent", "unknown-field", "purpose-as-list"],
)
async def test_a_bad_body_is_refused_naming_the_field(
    referral_service: ReferralService, body: dict[str, Any]
) -> None:
    referral_id = await cases.submit(referral_service, _body("Sabina"), "c-1")

    answer = await _change(referral_service, referral_id, body)

    assert answer.status_code == 422
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["errors"]
    assert _consent_steps(await cases.view(referral_service, referral_id)) == []


async def test_not_required_child_is_refused_for_an_adult(
    referral_service: ReferralService,
) -> None:
    referral_id = await cases.submit(referral_service, _body("Xadija"), "c-1")

    answer = await _change(
        referral_service, referral_id, {"purpose": "shelter", "consent": "not_required_child"}
    )

    assert answer.status_code == 422
    problem = answer.json()
    assert "only for a child" in problem["detail"]
    assert problem["errors"] == [
        {"field": "consent", "message": "not_required_child is only for a child"}
    ]
    view = await cases.view(referral_service, referral_id)
    assert view["consent"]["shelter"] == "granted"


async def test_a_withdrawn_referral_refuses_any_change_with_409(
    referral_service: ReferralService,
) -> None:
    referral_id = await cases.submit(referral_service, _body("Rena"), "c-1")
    await referral_service.client.post(
        f"/v1/referrals/{referral_id}/withdraw", headers=referral_service.headers()
    )

    answer = await _change(
        referral_service, referral_id, {"purpose": "shelter", "consent": "granted"}
    )

    assert answer.status_code == 409
    assert answer.headers["content-type"] == "application/problem+json"
    assert _consent_steps(await cases.view(referral_service, referral_id)) == []


async def test_a_key_that_may_only_read_cannot_change_consent(
    referral_service: ReferralService,
) -> None:
    referral_id = await cases.submit(referral_service, _body("Lala"), "c-1")
    _, reader_key = await referral_service.service.db.run(
        lambda conn: organizations.create_key(
            conn, referral_service.organization_id, (organizations.READ,)
        )
    )

    answer = await _change(
        referral_service, referral_id, {"purpose": "shelter", "consent": "withdrawn"}, reader_key
    )

    assert answer.status_code == 403
    assert _consent_steps(await cases.view(referral_service, referral_id)) == []
