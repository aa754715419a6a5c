"""Driving whole cases through a running referral service: submit, answer as a provider."""

from __future__ import annotations

from typing import Any

from korpu_contracts import providers, referral, streams
from korpu_contracts.vocabulary import Reason, Service, TaskStatus
from support import bus
from support.infra import wait_for
from support.referrals import ReferralService


async def submit(referral_service: ReferralService, body: dict[str, Any], key: str) -> str:
    answer = await referral_service.client.post(
        "/v1/referrals", json=body, headers=referral_service.headers(idempotency=key)
    )
    assert answer.status_code == 202, answer.text
    referral_id: str = answer.json()["id"]
    return referral_id


async def answer(
    referral_service: ReferralService,
    referral_id: str,
    service: Service,
    status: TaskStatus,
    reason: Reason | None = None,
    revision: int = 0,
) -> None:
    """Answer the referral's task as the provider would, over the task updates stream."""
    stream = streams.REQUESTS_BY_SERVICE[service]
    events = await bus.wait_for_events(
        referral_service.redis_url,
        stream,
        lambda found: any(event.subject == referral_id for event in found),
        message=f"no {service} request for the referral",
    )
    request = next(event for event in events if event.subject == referral_id)
    asked = referral.TaskRequested.model_validate(request.data)
    update = providers.TaskUpdated(
        task_id=asked.task_id,
        referral_id=referral_id,
        service=service,
        status=status,
        reason=reason,
        detail={},
        revision=revision,
    )
    stream = streams.UPDATES_BY_SERVICE[service]
    await bus.publish(referral_service.redis_url, stream, update, referral_id)


async def view(referral_service: ReferralService, referral_id: str) -> dict[str, Any]:
    found = await referral_service.client.get(
        f"/v1/referrals/{referral_id}", headers=referral_service.headers()
    )
    assert found.status_code == 200, found.text
    result: dict[str, Any] = found.json()
    return result


async def wait_for_service_status(
    referral_service: ReferralService, referral_id: str, service: Service, status: TaskStatus
) -> dict[str, Any]:
    async def reached() -> dict[str, Any] | None:
        found = await view(referral_service, referral_id)
        return found if found["services"][service]["status"] == status else None

    result: dict[str, Any] = await wait_for(reached, message=f"{service} never became {status}")
    return result
