"""Agencies on the bus act only as themselves (issue 10, point 3, the identity part).

Before, an intake entry naming another organization's id was accepted as that
organization, and took its Idempotency-Key. Now each organization signs its
intake entries with its own bus key (adapters/bus_keys.py); the organization is
the one whose key signed. Tried here, on a real Redis and database: an entry
naming another organization, an unsigned one, one altered after signing, one
signed with a revoked key, one signed with a service's key. Each is answered
with a refusal and leaves no referral and nothing of its data.

Not here (still to do): a Redis user and intake stream per organization, so that
one agency can neither read, trim nor delete another's entries; see the ACL tests.
"""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa

from korpu_contracts import entry_signature, referral, streams
from korpu_contracts.envelope import Envelope
from referral.adapters import bus_keys, organizations, sealing, tables
from support import bus, cli
from support.referrals import ReferralService, referral_body

NAME = "Sevindžbusmark"


def _body() -> dict[str, Any]:
    body = referral_body()
    body["person"] = {**body["person"], "given_name": NAME}
    return body


def _envelope(organization_id: str, idempotency_key: str) -> Envelope:
    command = bus.submission(organization_id, idempotency_key, _body())
    return Envelope.wrap(command, source="agency/tests", subject="BUS-1")


async def _send(referral_service: ReferralService, fields: dict[str, Any]) -> Envelope:
    redis = referral_service.service.redis
    before = await redis.xlen(streams.INTAKE_REPLIES)
    await redis.xadd(streams.INTAKE, fields)
    replies = await bus.wait_for_events(
        referral_service.redis_url,
        streams.INTAKE_REPLIES,
        lambda found: len(found) > before,
        message="the intake entry was not answered",
    )
    return replies[before]


async def _nothing_kept(referral_service: ReferralService, expected_referrals: int = 0) -> None:
    """No referral but those expected, and of the refused entries nothing but empty
    envelopes."""

    def stored(conn: sa.Connection) -> tuple[int, list[str], list[str | None]]:
        count = conn.execute(sa.select(sa.func.count()).select_from(tables.referrals))
        keyring = sealing.of(conn)
        rows = list(conn.execute(sa.select(tables.intake_rejections)))
        opened = [
            keyring.open(row.raw_entry, sealing.rejection_place(row.entry_id)) for row in rows
        ]
        return int(count.scalar_one()), opened, [row.organization_id for row in rows]

    referrals, kept, named = await referral_service.service.db.run(stored)
    assert referrals == expected_referrals
    assert kept and all(json.loads(entry)["data"] == {} for entry in kept)
    assert named == [None] * len(kept)  # no organization is shown a refusal it never caused


async def _other_organization(referral_service: ReferralService) -> tuple[str, str]:
    """A second agency with its own bus key: (its id, its bus key as printed)."""

    def create(conn: sa.Connection) -> tuple[str, str]:
        organization_id, _ = organizations.create(conn, "Women's rights NGO")
        return organization_id, str(bus_keys.create(conn, organization_id))

    found: tuple[str, str] = await referral_service.service.db.run(create)
    return found


async def test_an_entry_naming_another_organization_is_refused_and_takes_nothing_of_it(
    referral_service: ReferralService,
) -> None:
    victim = referral_service.organization_id
    _, attacker_key = await _other_organization(referral_service)
    # The attacker signs with its own key an entry naming the victim, with the
    # Idempotency-Key the victim is about to use.
    forged = _envelope(victim, "victim-key")
    key = entry_signature.AgencyKey.parse(attacker_key)
    reply = await _send(referral_service, bus.agency_entry(forged, key))

    assert reply.type == referral.ReferralRejected.TYPE
    assert reply.data["errors"] == [{
        "field": "data.organization_id",
        "message": "names another organization than the one whose bus key signed it",
    }]  # fmt: skip
    assert reply.data["organization_id"] is None and NAME not in reply.to_json()
    await _nothing_kept(referral_service)
    # The victim's own submission with that key goes through (before: 422).
    answer = await referral_service.client.post(
        "/v1/referrals",
        json=referral_body(),
        headers=referral_service.headers(idempotency="victim-key"),
    )
    assert answer.status_code == 202, answer.text
    # And the forgery did not claim its event id: the victim's own entry with that id is
    # handled, not dropped as a duplicate.
    data = bus.submission(victim, "victim-bus", _body()).model_dump(mode="json")
    genuine = forged.model_copy(update={"data": data})
    accepted = await _send(referral_service, bus.agency_entry(genuine, referral_service.bus_key))
    assert accepted.type == referral.ReferralAccepted.TYPE, accepted.data
    assert accepted.data["organization_id"] == victim


async def test_an_unsigned_entry_is_refused_and_nothing_of_it_kept(
    referral_service: ReferralService,
) -> None:
    envelope = _envelope(referral_service.organization_id, "unsigned")
    reply = await _send(referral_service, {streams.ENTRY_FIELD: envelope.to_json()})

    assert reply.data["errors"] == [{"field": "signature", "message": "the entry is not signed"}]
    assert reply.data["idempotency_key"] == "unsigned"  # for an honest agency to find it
    await _nothing_kept(referral_service)


async def test_an_entry_altered_after_signing_is_refused(
    referral_service: ReferralService,
) -> None:
    signed = bus.agency_entry(
        _envelope(referral_service.organization_id, "altered"), referral_service.bus_key
    )
    other = _envelope(referral_service.organization_id, "altered-too")
    altered = {**signed, streams.ENTRY_FIELD: other.to_json()}
    reply = await _send(referral_service, altered)

    [error] = reply.data["errors"]
    assert error["field"] == "signature"
    assert error["message"].startswith("the signature does not match the entry")
    await _nothing_kept(referral_service)


async def test_a_revoked_bus_key_and_a_services_key_are_refused(
    referral_service: ReferralService,
) -> None:
    key = referral_service.bus_key
    assert key is not None
    await referral_service.service.db.run(lambda conn: bus_keys.revoke(conn, key.key_id))
    envelope = _envelope(referral_service.organization_id, "revoked")
    revoked = await _send(referral_service, bus.agency_entry(envelope, key))
    # The referral service's own signing key is no agency's.
    as_service = bus.signer("referral").signed(
        streams.INTAKE, {streams.ENTRY_FIELD: envelope.to_json()}
    )
    service_signed = await _send(referral_service, as_service)

    assert revoked.data["errors"] == [{
        "field": "signature", "message": f"no bus key {key.key_id} is known (or it was revoked)"
    }]  # fmt: skip
    assert service_signed.data["errors"] == [{
        "field": "signature", "message": "the entry is not signed with an organization's bus key"
    }]  # fmt: skip
    await _nothing_kept(referral_service)


async def test_a_bus_key_made_with_the_cli_signs_as_its_organization(
    referral_service: ReferralService, tmp_path: Any
) -> None:
    organization_id = referral_service.organization_id
    settings = referral_service.service.settings
    env = {
        "REFERRAL_DATABASE_URL": settings.database_url,
        "KORPU_KEYS_DIR": str(settings.keys_dir),
    }
    made = cli.korpu("org", "keys", "create", organization_id, "--bus", "--json",
                     data_dir=tmp_path, env=env)  # fmt: skip
    assert made.returncode == 0, made.stderr
    printed = json.loads(made.stdout)
    key = entry_signature.AgencyKey.parse(printed["bus_key"])
    reply = await _send(referral_service, bus.agency_entry(_envelope(organization_id, "cli"), key))
    assert reply.type == referral.ReferralAccepted.TYPE, reply.data
    assert reply.data["organization_id"] == organization_id

    revoked = cli.korpu("org", "keys", "revoke", printed["key_id"], "--bus",
                        data_dir=tmp_path, env=env)  # fmt: skip
    assert revoked.returncode == 0, revoked.stderr
    refused = await _send(
        referral_service, bus.agency_entry(_envelope(organization_id, "cli-2"), key)
    )
    assert refused.type == referral.ReferralRejected.TYPE
