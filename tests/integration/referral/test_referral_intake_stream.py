"""Agency systems on the bus: the intake stream answers every entry and keeps no person on it."""

from __future__ import annotations

import json

import sqlalchemy as sa

from korpu_contracts import intake, referral, streams
from korpu_contracts.envelope import Envelope
from referral.adapters import sealing, tables
from support import bus
from support.referrals import ReferralService, referral_body


async def _replies(referral_service: ReferralService, count: int) -> list[Envelope]:
    return await bus.wait_for_events(
        referral_service.redis_url,
        referral_service.replies,
        lambda events: len(events) >= count,
        message="no answer on the intake replies stream",
    )


async def test_a_valid_entry_becomes_a_referral_and_leaves_the_stream(
    referral_service: ReferralService,
) -> None:
    await referral_service.submit_on_bus("bus-1", referral_body(), "POL-2026-0001")
    [reply] = await _replies(referral_service, 1)
    assert reply.type == referral.ReferralAccepted.TYPE
    referral_id = reply.data["referral_id"]
    view = await referral_service.client.get(
        f"/v1/referrals/{referral_id}", headers=referral_service.headers()
    )
    assert view.json()["agency_reference"] == "POL-2026-0001"
    # The entry carried a person: once stored, it is gone from Redis.
    assert await referral_service.service.redis.xlen(referral_service.intake) == 0


async def test_an_unsigned_entry_that_is_no_envelope_is_answered_and_nothing_of_it_kept(
    referral_service: ReferralService,
) -> None:
    # Anyone's bytes, where Redis has no users: not the organization's to be shown.
    broken = json.dumps({"data": {"notes": "Aysel, unsigned"}})
    await referral_service.service.redis.xadd(
        referral_service.intake, {streams.ENTRY_FIELD: broken}
    )
    [reply] = await _replies(referral_service, 1)
    assert reply.type == referral.ReferralRejected.TYPE
    assert reply.data["errors"] == [{"field": "signature", "message": "the entry is not signed"}]

    def kept(conn: sa.Connection) -> list[str]:
        keyring = sealing.of(conn)
        rows = conn.execute(sa.select(tables.intake_rejections))
        return [keyring.open(row.raw_entry, sealing.rejection_place(row.entry_id)) for row in rows]

    assert await referral_service.service.db.run(kept) == [""]


async def test_an_invalid_entry_is_answered_naming_the_bad_fields_and_kept(
    referral_service: ReferralService,
) -> None:
    body = referral_body()
    body["person"] = {**body["person"], "sex": "woman", "nickname": "Ayka"}
    await referral_service.submit_unchecked_on_bus("bus-2", body)
    await referral_service.service.redis.xadd(
        referral_service.intake, referral_service.signed("not json")
    )
    first, second = await _replies(referral_service, 2)
    assert {first.type, second.type} == {referral.ReferralRejected.TYPE}
    fields = {error["field"] for error in first.data["errors"]}
    assert fields == {"data.referral.person.sex", "data.referral.person.nickname"}
    assert first.data["idempotency_key"] == "bus-2"
    assert second.data["errors"][0]["field"] == "(body)"
    assert "Aysel" not in first.to_json() and "Ayka" not in first.to_json()

    def kept(conn: sa.Connection) -> list[tuple[str, str]]:
        keyring = sealing.of(conn)
        rows = conn.execute(sa.select(tables.intake_rejections))
        return [
            (row.raw_entry, keyring.open(row.raw_entry, sealing.rejection_place(row.entry_id)))
            for row in rows
        ]

    stored = await referral_service.service.db.run(kept)
    assert len(stored) == 2 and any("Aysel" in raw for _, raw in stored)
    assert not any("Aysel" in sealed for sealed, _ in stored)  # kept sealed
    assert await referral_service.service.redis.xlen(referral_service.intake) == 0


async def test_an_entry_naming_an_organization_its_bus_key_is_not_of_is_rejected(
    referral_service: ReferralService,
) -> None:
    command = bus.submission(
        "no-such-org",
        "bus-3",
        intake.ReferralRequest.model_validate(referral_body()),
    )
    await bus.publish(
        referral_service.redis_url,
        referral_service.intake,
        command,
        "X",
        agency_key=referral_service.bus_key,
    )
    [reply] = await _replies(referral_service, 1)
    assert reply.type == referral.ReferralRejected.TYPE
    assert reply.data["errors"] == [
        {
            "field": "data.organization_id",
            "message": "names another organization than the one whose bus key signed it",
        }
    ]
