"""Agencies on the bus act only as themselves (issue 10, point 3, the identity part).

Before, an intake entry naming another organization's id was accepted as that
organization, and took its Idempotency-Key. Now each organization has its own
intake stream and signs its entries with its own bus key (adapters/bus_keys.py):
the organization is the one whose key signed, and it must be the stream's. Tried
here, on a real Redis with no users at all (so anyone may add anywhere) and a real
database: an entry put on another organization's intake, one naming another
organization, an unsigned one, one altered after signing, one signed with a
revoked key, one signed with a service's key. Each is answered with a refusal
and leaves no referral and nothing of its data.

That one agency can neither read, trim, delete from nor block another's streams
is Redis's to refuse: tests/security/test_security_redis_acl.py, with its users.
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


async def _send(
    referral_service: ReferralService, fields: dict[str, Any], organization_id: str | None = None
) -> Envelope:
    """Add to the intake of `organization_id` (by default the fixture's); its answer."""
    organization_id = organization_id or referral_service.organization_id
    replies_stream = streams.intake_replies(organization_id)
    redis = referral_service.service.redis
    before = await redis.xlen(replies_stream)
    await redis.xadd(streams.intake(organization_id), fields)
    replies = await bus.wait_for_events(
        referral_service.redis_url,
        replies_stream,
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
    attacker, attacker_key = await _other_organization(referral_service)
    key = entry_signature.AgencyKey.parse(attacker_key)
    # The attacker signs with its own key an entry naming the victim, with the
    # Idempotency-Key the victim is about to use: on its own intake, and on the
    # victim's (which no ACL stops here).
    forged = _envelope(victim, "victim-key")
    own_stream = streams.intake(attacker)
    on_its_own = await _send(referral_service, bus.agency_entry(own_stream, forged, key), attacker)
    on_the_victims = await _send(
        referral_service, bus.agency_entry(referral_service.intake, forged, key)
    )

    assert on_its_own.type == on_the_victims.type == referral.ReferralRejected.TYPE
    assert on_its_own.data["errors"] == [{
        "field": "data.organization_id",
        "message": "names another organization than the one whose bus key signed it",
    }]  # fmt: skip
    assert on_the_victims.data["errors"] == [{
        "field": "signature",
        "message": "signed by another organization than the one whose intake stream it is on",
    }]  # fmt: skip
    for reply in (on_its_own, on_the_victims):
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
    accepted = await _send(referral_service, referral_service.signed(genuine))
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
    signed = referral_service.signed(_envelope(referral_service.organization_id, "altered"))
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
    revoked = await _send(referral_service, referral_service.signed(envelope))
    # The referral service's own signing key is no agency's.
    as_service = bus.signer("referral").signed(
        referral_service.intake, {streams.ENTRY_FIELD: envelope.to_json()}
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
        "REDIS_URL": referral_service.redis_url,
    }
    made = cli.korpu("org", "keys", "create", organization_id, "--bus", "--json",
                     data_dir=tmp_path, env=env)  # fmt: skip
    assert made.returncode == 0, made.stderr
    printed = json.loads(made.stdout)
    # With the streams it may use, and its Redis user: none made on a Redis open to all.
    assert printed["streams"] == {
        "intake": referral_service.intake,
        "replies": referral_service.replies,
        "status": referral_service.status,
    }
    assert printed["redis_user"] == f"agency-{organization_id}" and printed["redis_password"]
    assert "lets anyone in" in made.stderr, made.stderr
    key = entry_signature.AgencyKey.parse(printed["bus_key"])
    entry = bus.agency_entry(referral_service.intake, _envelope(organization_id, "cli"), key)
    reply = await _send(referral_service, entry)
    assert reply.type == referral.ReferralAccepted.TYPE, reply.data
    assert reply.data["organization_id"] == organization_id

    revoked = cli.korpu("org", "keys", "revoke", printed["key_id"], "--bus",
                        data_dir=tmp_path, env=env)  # fmt: skip
    assert revoked.returncode == 0, revoked.stderr
    # Listed with the organization's API keys, its revocation too; never the key.
    listed = cli.korpu("org", "keys", "list", organization_id, "--json",
                       data_dir=tmp_path, env=env)  # fmt: skip
    on_the_bus = {key["id"]: key for key in json.loads(listed.stdout) if key["kind"] == "bus"}
    assert on_the_bus[printed["key_id"]]["revoked_at"]
    assert printed["bus_key"].split(":")[1] not in listed.stdout
    entry = bus.agency_entry(referral_service.intake, _envelope(organization_id, "cli-2"), key)
    refused = await _send(referral_service, entry)
    assert refused.type == referral.ReferralRejected.TYPE
