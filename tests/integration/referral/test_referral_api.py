"""The agency-facing HTTP contract, answer by answer (README), on real Redis and databases."""

from __future__ import annotations

import json

import pytest

from korpu_contracts import referral, streams
from support import bus
from support.referrals import ReferralService, referral_body


async def test_a_valid_referral_is_accepted_with_its_location(
    referral_service: ReferralService,
) -> None:
    answer = await referral_service.client.post(
        "/v1/referrals", json=referral_body(), headers=referral_service.headers()
    )
    assert answer.status_code == 202
    body = answer.json()
    assert body["status"] == "coordinating"
    assert answer.headers["Location"] == f"/v1/referrals/{body['id']}"
    read = await referral_service.client.get(
        answer.headers["Location"], headers=referral_service.headers()
    )
    assert read.status_code == 200
    view = read.json()
    assert view["agency_reference"] == "POL-2026-0001"
    assert {name: s["status"] for name, s in view["services"].items()} == {
        "shelter": "requested",
        "employment": "requested",
        "legal_aid": "requested",
    }
    assert view["history"][0]["status"] == "received"


async def test_the_same_key_and_body_answer_the_same_202_and_create_nothing(
    referral_service: ReferralService,
) -> None:
    first = await referral_service.client.post(
        "/v1/referrals", json=referral_body(), headers=referral_service.headers()
    )
    # The same JSON with other key order and spacing is the same body.
    replay_body = json.dumps(referral_body(), indent=2, sort_keys=True)
    second = await referral_service.client.post(
        "/v1/referrals",
        content=replay_body,
        headers={**referral_service.headers(), "Content-Type": "application/json"},
    )
    assert second.status_code == 202
    assert second.json()["id"] == first.json()["id"]
    assert second.headers["Location"] == first.headers["Location"]
    requests = await bus.wait_for_events(
        referral_service.redis_url, streams.SHELTER_REQUESTS, lambda found: len(found) >= 1
    )
    assert len(requests) == 1


async def test_the_same_key_with_another_body_is_refused(referral_service: ReferralService) -> None:
    await referral_service.client.post(
        "/v1/referrals", json=referral_body(), headers=referral_service.headers()
    )
    answer = await referral_service.client.post(
        "/v1/referrals",
        json=referral_body(agency_reference="POL-2026-0002"),
        headers=referral_service.headers(),
    )
    assert answer.status_code == 422
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["errors"][0]["field"] == "Idempotency-Key"


async def test_a_missing_idempotency_key_is_a_bad_request(
    referral_service: ReferralService,
) -> None:
    answer = await referral_service.client.post(
        "/v1/referrals", json=referral_body(), headers=referral_service.headers(idempotency=None)
    )
    assert answer.status_code == 400
    assert answer.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize(
    "key",
    ["k\x1b[31m", "line\nbreak", "k" * 256, "ключ".encode()],
    ids=["terminal-escape", "line-break", "too-long", "not-ascii"],
)
async def test_an_idempotency_key_is_printable_ascii_and_at_most_255_long(
    referral_service: ReferralService, key: str | bytes
) -> None:
    answer = await referral_service.client.post(
        "/v1/referrals",
        json=referral_body(),
        headers={**referral_service.headers(), "Idempotency-Key": key},
    )
    assert answer.status_code == 400
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["errors"][0]["field"] == "Idempotency-Key"
    longest = await referral_service.client.post(
        "/v1/referrals",
        json=referral_body(),
        headers=referral_service.headers(idempotency="k" * 255),
    )
    assert longest.status_code == 202


async def test_no_key_or_a_wrong_key_is_unauthorized(referral_service: ReferralService) -> None:
    missing = await referral_service.client.post(
        "/v1/referrals", json=referral_body(), headers={"Idempotency-Key": "k"}
    )
    wrong = await referral_service.client.post(
        "/v1/referrals", json=referral_body(), headers=referral_service.headers(key="korpu_wrong")
    )
    assert (missing.status_code, wrong.status_code) == (401, 401)
    assert wrong.headers["content-type"] == "application/problem+json"


async def test_another_organizations_referral_is_not_found(
    referral_service: ReferralService,
) -> None:
    created = await referral_service.client.post(
        "/v1/referrals", json=referral_body(), headers=referral_service.headers()
    )
    location = created.headers["Location"]
    other = referral_service.headers(key=referral_service.other_key)
    assert (await referral_service.client.get(location, headers=other)).status_code == 404
    withdraw = await referral_service.client.post(f"{location}/withdraw", headers=other)
    assert withdraw.status_code == 404
    own = await referral_service.client.get(location, headers=referral_service.headers())
    assert own.json()["status"] == "coordinating"


async def test_a_body_over_the_limit_is_refused(referral_service: ReferralService) -> None:
    answer = await referral_service.client.post(
        "/v1/referrals",
        json=referral_body(notes="x" * 70_000),
        headers=referral_service.headers(),
    )
    assert answer.status_code == 413
    assert answer.headers["content-type"] == "application/problem+json"


async def test_an_invalid_body_names_every_bad_field_and_not_the_values(
    referral_service: ReferralService,
) -> None:
    body = referral_body(region="", needs=["shelter", "dentist"])
    body["person"] = {**body["person"], "sex": "f", "nickname": "Ayka", "date_of_birth": "12/04"}
    answer = await referral_service.client.post(
        "/v1/referrals", json=body, headers=referral_service.headers()
    )
    assert answer.status_code == 422
    assert answer.headers["content-type"] == "application/problem+json"
    fields = {error["field"] for error in answer.json()["errors"]}
    assert {"region", "needs.1", "person.sex", "person.nickname", "person.date_of_birth"} <= fields
    assert "Ayka" not in answer.text and "Aysel" not in answer.text


async def test_malformed_json_is_a_bad_request(referral_service: ReferralService) -> None:
    answer = await referral_service.client.post(
        "/v1/referrals",
        content=b'{"agency_reference": ',
        headers={**referral_service.headers(), "Content-Type": "application/json"},
    )
    assert answer.status_code == 400


async def test_nothing_is_written_for_a_refused_referral(referral_service: ReferralService) -> None:
    await referral_service.client.post(
        "/v1/referrals", json=referral_body(needs=[]), headers=referral_service.headers()
    )
    assert await bus.read_events(referral_service.redis_url, streams.SHELTER_REQUESTS) == []
    await referral_service.service.relay.flush()
    assert await bus.read_events(referral_service.redis_url, referral_service.status) == []


async def test_a_service_without_consent_is_not_requested(
    referral_service: ReferralService,
) -> None:
    body = referral_body(
        consent={"shelter": "granted", "employment": "refused", "legal_aid": "granted"}
    )
    created = await referral_service.client.post(
        "/v1/referrals", json=body, headers=referral_service.headers()
    )
    view = (
        await referral_service.client.get(
            created.headers["Location"], headers=referral_service.headers()
        )
    ).json()
    assert view["services"]["employment"] == {
        "status": "rejected",
        "reason": "consent_missing",
        "detail": {},
    }
    await referral_service.service.relay.flush()
    assert await bus.read_events(referral_service.redis_url, streams.EMPLOYMENT_REQUESTS) == []
    shelter = await bus.read_events(referral_service.redis_url, streams.SHELTER_REQUESTS)
    assert len(shelter) == 1
    assert shelter[0].type == referral.TaskRequested.TYPE
