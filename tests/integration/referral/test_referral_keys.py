"""Organization keys: several per organization, revocable, scoped, last use kept coarsely."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from referral.adapters import organizations, tables
from support.referrals import ReferralService, referral_body


async def _new_key(referral_service: ReferralService, *scopes: str) -> tuple[str, str]:
    organization_id = referral_service.organization_id
    return await referral_service.service.db.run(
        lambda conn: organizations.create_key(
            conn, organization_id, scopes or organizations.DEFAULT_SCOPES
        )
    )


async def _submit(referral_service: ReferralService, key: str, idempotency: str = "key-1") -> str:
    answer = await referral_service.client.post(
        "/v1/referrals", json=referral_body(), headers=referral_service.headers(key, idempotency)
    )
    assert answer.status_code == 202, answer.text
    return str(answer.headers["Location"])


async def test_a_second_key_works_beside_the_first_and_survives_its_revocation(
    referral_service: ReferralService,
) -> None:
    key_id = (
        await referral_service.service.db.run(
            lambda conn: organizations.keys(conn, referral_service.organization_id)
        )
    )[0].id
    _, second = await _new_key(referral_service)
    location = await _submit(referral_service, referral_service.api_key)
    # Both keys belong to the organization: the second reads what the first submitted.
    read = await referral_service.client.get(location, headers=referral_service.headers(second))
    assert read.status_code == 200

    revoked = await referral_service.service.db.run(
        lambda conn: organizations.revoke(conn, key_id, "rotated")
    )
    assert revoked is not None and revoked.revoked_reason == "rotated"
    refused = await referral_service.client.get(location, headers=referral_service.headers())
    assert refused.status_code == 401
    assert refused.headers["content-type"] == "application/problem+json"
    assert referral_service.api_key not in refused.text
    still = await referral_service.client.get(location, headers=referral_service.headers(second))
    assert still.status_code == 200


async def test_a_read_only_key_cannot_submit_or_withdraw_and_is_told_which_scope(
    referral_service: ReferralService,
) -> None:
    location = await _submit(referral_service, referral_service.api_key)
    _, reader = await _new_key(referral_service, organizations.READ)
    submitted = await referral_service.client.post(
        "/v1/referrals", json=referral_body(), headers=referral_service.headers(reader, "key-2")
    )
    withdrawn = await referral_service.client.post(
        f"{location}/withdraw", headers=referral_service.headers(reader)
    )
    for answer in (submitted, withdrawn):
        assert answer.status_code == 403
        assert answer.headers["content-type"] == "application/problem+json"
        assert answer.json()["missing_scope"] == "referrals:submit"
        assert "referrals:submit" in answer.json()["detail"]
        assert reader not in answer.text and reader[6:14] not in answer.text
    read = await referral_service.client.get(location, headers=referral_service.headers(reader))
    assert read.status_code == 200
    assert read.json()["status"] != "withdrawn"


async def test_a_submit_only_key_cannot_read(referral_service: ReferralService) -> None:
    _, submitter = await _new_key(referral_service, organizations.SUBMIT)
    location = await _submit(referral_service, submitter)
    read = await referral_service.client.get(location, headers=referral_service.headers(submitter))
    assert read.status_code == 403
    assert read.json()["missing_scope"] == "referrals:read"


async def test_an_organization_sees_only_its_own_referrals(
    referral_service: ReferralService,
) -> None:
    location = await _submit(referral_service, referral_service.api_key)
    for answer in (
        await referral_service.client.get(
            location, headers=referral_service.headers(referral_service.other_key)
        ),
        await referral_service.client.post(
            f"{location}/withdraw", headers=referral_service.headers(referral_service.other_key)
        ),
    ):
        assert answer.status_code == 404


async def test_an_unknown_key_is_unauthorized(referral_service: ReferralService) -> None:
    answer = await referral_service.client.get(
        "/v1/referrals/x", headers=referral_service.headers("korpu_not-a-key")
    )
    assert answer.status_code == 401


async def test_keys_are_stored_hashed_behind_a_short_prefix(
    referral_service: ReferralService,
) -> None:
    key_id, api_key = await _new_key(referral_service, organizations.READ)
    row = await referral_service.service.db.run(
        lambda conn: conn.execute(
            sa.select(tables.api_keys).where(tables.api_keys.c.id == key_id)
        ).one()
    )
    assert api_key.startswith("korpu_")
    assert row.prefix == api_key[len("korpu_") :][:8]
    assert row.key_hash == organizations.hash_key(api_key) != api_key
    assert row.scopes == "referrals:read"
    listed = await referral_service.service.db.run(
        lambda conn: organizations.keys(conn, referral_service.organization_id)
    )
    assert [key.scopes for key in listed] == [organizations.DEFAULT_SCOPES, (organizations.READ,)]


async def test_last_use_is_written_at_most_once_a_minute(
    referral_service: ReferralService,
) -> None:
    key_id, api_key = await _new_key(referral_service)
    db = referral_service.service.db
    start = dt.datetime(2026, 11, 26, 12, 0, tzinfo=dt.UTC)

    async def used_at(at: dt.datetime) -> dt.datetime | None:
        caller = await db.run(lambda conn: organizations.authenticate(conn, api_key, at))
        assert caller is not None and caller.actor_id == key_id
        key = await db.run(lambda conn: organizations.key(conn, key_id))
        assert key is not None
        return key.last_used_at

    assert await used_at(start) == start
    assert await used_at(start + dt.timedelta(seconds=59)) == start
    later = start + dt.timedelta(seconds=61)
    assert await used_at(later) == later


async def test_a_key_needs_a_known_scope(referral_service: ReferralService) -> None:
    with pytest.raises(organizations.UnknownScope):
        await _new_key(referral_service, "referrals:delete")
