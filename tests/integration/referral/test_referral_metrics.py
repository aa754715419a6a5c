"""The referral service's /metrics after a referral flows: the tasks no provider has
answered, and nothing about the person, the referral or its tasks."""

from __future__ import annotations

from korpu_contracts import referral, streams
from korpu_runtime import scrape
from support import bus
from support.metrics import metric
from support.referrals import ReferralService, referral_body


async def _scrape(referral_service: ReferralService) -> str:
    path = referral_service.service.settings.metrics_token_file
    headers = {"Authorization": f"Bearer {scrape.token(path)}"}
    answer = await referral_service.client.get("/metrics", headers=headers)
    assert answer.status_code == 200, answer.text
    return answer.text


async def test_metrics_count_unanswered_tasks_and_never_name_the_person_or_an_id(
    referral_service: ReferralService,
) -> None:
    body = referral_body()
    answer = await referral_service.client.post(
        "/v1/referrals", json=body, headers=referral_service.headers(idempotency="metrics-1")
    )
    assert answer.status_code == 202
    referral_id = answer.json()["id"]
    events = await bus.wait_for_events(
        referral_service.redis_url,
        streams.REQUESTS_BY_SERVICE["shelter"],
        lambda events: any(e.subject == referral_id for e in events),
        message="no shelter request",
    )
    task_id = referral.TaskRequested.model_validate(events[0].data).task_id

    text = await _scrape(referral_service)

    # The shelter is asked first; the others wait for its answer, as unanswered.
    for provider in ("shelter", "employment", "legal_aid"):
        assert metric(text, "korpu_tasks_unanswered", provider=provider) == 1
        oldest = metric(text, "korpu_tasks_oldest_unanswered_age_seconds", provider=provider)
        assert oldest is not None and 0 <= oldest < 60
    route = "/v1/referrals"
    assert metric(text, "korpu_http_requests_total", route=route, status="202") == 1
    person = body["person"]
    private = (
        referral_id, task_id, events[0].subject, person["given_name"], person["family_name"],
        person["contact_phone"], body["agency_reference"], "metrics-1",
        referral_service.organization_id,
    )  # fmt: skip
    for value in private:
        assert value not in text
