"""A person on the bus is readable only by the referral service (issue 10, point 4).

An agency on the bus seals its referral with HPKE to the referral service's intake
key (korpu_contracts.sealed). Attacks and mistakes tried here, on a Redis of the
test's own with its append-only file on, and a referral service with a keys
folder of its own:
- a referral sent in clear is refused naming why, its person kept nowhere and
  logged nowhere (while a referral sent sealed leaves its person in no Redis
  key and no Redis file, which the one sent in clear does not);
- a ciphertext moved under another organization's entry, another idempotency
  key, or altered, does not open and is refused;
- a referral sealed to a key the service does not hold is refused;
- a key rotated: the new one opens, the old one too until it is retired.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis
import sqlalchemy as sa
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from korpu_contracts import entry_signature, intake, referral, sealed, streams
from korpu_contracts.envelope import Envelope
from korpu_runtime import signing
from korpu_runtime.service import Service
from referral import bootstrap
from referral.adapters import bus_keys, intake_keys, organizations, sealing, tables
from support import bus, cli
from support.private_redis import PrivateRedis
from support.referrals import referral_body

SECRET = "Gülnarəsealedmark"  # the person sent sealed: must be nowhere in Redis
CONTROL = "Təranəplainmark"  # the person sent in clear: shows where Redis keeps entries


@dataclass
class Intake:
    service: Service
    client: httpx.AsyncClient
    redis: PrivateRedis
    keys_dir: Path
    organization_id: str
    other_organization_id: str
    # Each organization's bus key: its entries are signed, as they must be.
    bus_keys: dict[str, entry_signature.AgencyKey]

    def envelope(self, data: dict[str, Any], version: int = intake.SubmitReferral.VERSION) -> str:
        return json.dumps({
            "id": str(uuid.uuid4()), "type": intake.SubmitReferral.TYPE,
            "dataschemaversion": version, "source": "agency/police",
            "time": "2026-12-07T10:00:00Z", "subject": "POL-1", "correlationid": "POL-1",
            "data": data,
        })  # fmt: skip

    def sealed_data(
        self, body: dict[str, Any], key: str, organization_id: str | None = None
    ) -> dict[str, Any]:
        command = bus.submission(organization_id or self.organization_id, key, body, self.keys_dir)
        return command.model_dump(mode="json")

    async def send(self, *raw: str, signer: str | None = None) -> list[Envelope]:
        """XADD each entry as an agency would, on its own intake, signed with the bus key
        of `signer` (by default the organization the entries name); every answer once
        all are answered."""
        named = {json.loads(entry)["data"]["organization_id"] for entry in raw}
        organization_id = signer or named.pop()
        assert signer or not named, "one organization's entries at a time"
        stream = streams.intake(organization_id)
        replies_stream = streams.intake_replies(organization_id)
        client = redis.Redis.from_url(self.redis.url)
        try:
            before = client.xlen(replies_stream)
            for entry in raw:
                fields = bus.agency_entry(stream, entry, self.bus_keys[organization_id])
                client.xadd(stream, fields)  # type: ignore[arg-type]
        finally:
            client.close()
        replies = await bus.wait_for_events(
            self.redis.url,
            replies_stream,
            lambda found: len(found) >= before + len(raw),
            message="the intake entries were not all answered",
        )
        return replies[before:]

    async def referral_count(self) -> int:
        query = sa.select(sa.func.count()).select_from(tables.referrals)
        counted: int = await self.service.db.run(lambda conn: conn.execute(query).scalar_one())
        return counted

    async def kept_entries(self) -> list[str]:
        """Every refused entry the service kept, opened with its data keys."""

        def opened(conn: sa.Connection) -> list[str]:
            keyring = sealing.of(conn)
            rows = conn.execute(sa.select(tables.intake_rejections))
            return [
                keyring.open(row.raw_entry, sealing.rejection_place(row.entry_id)) for row in rows
            ]

        found: list[str] = await self.service.db.run(opened)
        return found


@pytest.fixture
async def agency_bus(tmp_path: Path, database_url: str) -> AsyncIterator[Intake]:
    with PrivateRedis(tmp_path / "redis-server") as server:
        settings = bootstrap.Settings(
            redis_url=server.url,
            database_url=database_url,
            keys_dir=tmp_path / "keys",
            consumer_name="referral-sealed-test",
        )
        app = bootstrap.build_app(settings)
        service: Service = app.state.service
        async with app.router.lifespan_context(app):
            organization_id, _ = await service.db.run(
                lambda conn: organizations.create(conn, "Police anti-trafficking unit")
            )
            other_id, _ = await service.db.run(lambda conn: organizations.create(conn, "Other"))
            keys = {
                organization: await service.db.run(
                    lambda conn, organization=organization: bus_keys.create(conn, organization)
                )
                for organization in (organization_id, other_id)
            }
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://r") as client:
                yield Intake(
                    service, client, server, tmp_path / "keys", organization_id, other_id, keys
                )


def _person(given_name: str) -> dict[str, Any]:
    body = referral_body()
    body["person"] = {**body["person"], "given_name": given_name}
    return body


def _errors(reply: Envelope) -> list[dict[str, str]]:
    assert reply.type == referral.ReferralRejected.TYPE, reply.data
    errors: list[dict[str, str]] = reply.data["errors"]
    return errors


async def test_a_referral_sent_in_clear_is_refused_naming_why_and_kept_nowhere(
    agency_bus: Intake, capsys: pytest.CaptureFixture[str]
) -> None:
    plain = {"organization_id": agency_bus.organization_id, "idempotency_key": "plain-1",
             "referral": _person(CONTROL)}  # fmt: skip
    # As version 1 sent it, and as version 2 with the clear referral beside a sealed one.
    both = {**agency_bus.sealed_data(_person(CONTROL), "plain-2"), "referral": _person(CONTROL)}
    replies = await agency_bus.send(
        agency_bus.envelope(plain, version=1), agency_bus.envelope({**both})
    )

    for reply in replies:
        assert _errors(reply) == [{"field": "data.referral", "message": sealed.MUST_BE_SEALED}]
        assert CONTROL not in reply.to_json()
    assert await agency_bus.referral_count() == 0
    kept = await agency_bus.kept_entries()
    assert len(kept) == 2 and not any(CONTROL in entry for entry in kept)
    logged = capsys.readouterr()
    assert "intake_entry_rejected" in logged.err
    assert CONTROL not in logged.err + logged.out


def _every_value_in(client: redis.Redis) -> Iterator[bytes]:
    """Every key's name and value, whatever its type, as Redis holds it now."""
    for name in client.scan_iter(count=1000):
        yield name
        kind = client.type(name).decode()
        if kind == "stream":
            for _, fields in client.xrange(name):
                yield from (part for pair in fields.items() for part in pair)
        elif kind == "hash":
            yield from (part for pair in client.hgetall(name).items() for part in pair)
        elif kind == "string":
            yield client.get(name) or b""
        elif kind == "list":
            yield from client.lrange(name, 0, -1)
        elif kind == "set":
            yield from client.smembers(name)
        elif kind == "zset":
            yield from client.zrange(name, 0, -1)
        else:
            raise AssertionError(f"a key of type {kind} this test cannot read")


def _files_holding(folder: Path, text: str) -> list[str]:
    marks = {text.encode(), json.dumps(text).encode()[1:-1]}
    return sorted(
        path.name
        for path in folder.rglob("*")
        if path.is_file() and any(mark in path.read_bytes() for mark in marks)
    )


async def test_a_sealed_person_is_in_no_redis_key_and_no_redis_file(agency_bus: Intake) -> None:
    plain = {"organization_id": agency_bus.organization_id, "idempotency_key": "control",
             "referral": _person(CONTROL)}  # fmt: skip
    accepted, refused = await agency_bus.send(
        agency_bus.envelope(agency_bus.sealed_data(_person(SECRET), "sealed-1")),
        agency_bus.envelope(plain, version=1),
    )
    assert accepted.type == referral.ReferralAccepted.TYPE, accepted.data
    assert _errors(refused)[0]["message"] == sealed.MUST_BE_SEALED
    assert await agency_bus.referral_count() == 1

    client = redis.Redis.from_url(agency_bus.redis.url)
    try:
        assert client.xlen(streams.intake(agency_bus.organization_id)) == 0
        values = list(_every_value_in(client))
    finally:
        client.close()
    assert values and not any(SECRET.encode() in value for value in values)
    folder = agency_bus.redis.directory
    # The control: the person the agency sent in clear stays in the append-only file
    # after the service deleted the entry, which is what sealing is for.
    assert _files_holding(folder, CONTROL), "the scan does not see what Redis keeps"
    assert _files_holding(folder, SECRET) == []


async def test_a_ciphertext_moved_to_another_entry_does_not_open(agency_bus: Intake) -> None:
    original = agency_bus.sealed_data(_person(SECRET), "moved-1")
    sealed_referral = original["sealed_referral"]
    ciphertext = sealed_referral["ciphertext"]
    flipped = ("A" if ciphertext[0] != "A" else "B") + ciphertext[1:]
    attempts = [
        # Copied by another organization into an entry of its own, under its own name
        # and signed with its own bus key, the idempotency key kept.
        {**original, "organization_id": agency_bus.other_organization_id},
        # Under another idempotency key of the same organization.
        {**original, "idempotency_key": "moved-2"},
        # Altered.
        {**original, "sealed_referral": {**sealed_referral, "ciphertext": flipped}},
    ]
    # Each on the intake of the organization it names (the first on the other's).
    replies = [
        *await agency_bus.send(agency_bus.envelope(attempts[0])),
        *await agency_bus.send(*(agency_bus.envelope(data) for data in attempts[1:])),
    ]

    for reply in replies:
        [error] = _errors(reply)
        assert error["field"] == "data.sealed_referral"
        assert error["message"].startswith("the sealed referral does not open")
    assert await agency_bus.referral_count() == 0
    # The same ciphertext in its own entry still opens: the refusals were about the move.
    [accepted] = await agency_bus.send(agency_bus.envelope(original))
    assert accepted.type == referral.ReferralAccepted.TYPE


async def test_a_referral_sealed_to_a_key_the_service_does_not_hold_is_refused(
    agency_bus: Intake,
) -> None:
    stranger = sealed.IntakeKey(signing.new_key_id(), X25519PrivateKey.generate().public_key())
    forged = sealed.seal_referral(
        _person(SECRET), stranger, agency_bus.organization_id, "unknown-key"
    )
    data = {"organization_id": agency_bus.organization_id, "idempotency_key": "unknown-key",
            "sealed_referral": forged.model_dump(mode="json")}  # fmt: skip
    [reply] = await agency_bus.send(agency_bus.envelope(data))

    [error] = _errors(reply)
    assert error == {
        "field": "data.sealed_referral",
        "message": f"sealed to key {stranger.key_id}, which the referral service does not hold",
    }
    assert await agency_bus.referral_count() == 0


async def test_a_rotated_key_opens_beside_the_old_until_the_old_is_retired(
    agency_bus: Intake,
) -> None:
    def korpu(*args: str) -> str:
        env = {"KORPU_KEYS_DIR": str(agency_bus.keys_dir)}
        done = cli.korpu("keys", "intake", *args, data_dir=agency_bus.keys_dir.parent, env=env)
        assert done.returncode == 0, done.stderr
        return done.stdout

    old = sealed.IntakeKey.parse(json.loads(korpu("show", "--json"))["key"])
    korpu("generate")
    new = sealed.IntakeKey.parse(json.loads(korpu("show", "--json"))["key"])
    assert new.key_id > old.key_id
    # Agencies are given the new key at once, over HTTP too.
    answer = await agency_bus.client.get("/v1/intake-key")
    assert answer.status_code == 200 and answer.json()["key"] == str(new)

    def data(key: sealed.IntakeKey, idempotency_key: str) -> dict[str, Any]:
        sealed_referral = sealed.seal_referral(
            _person(SECRET), key, agency_bus.organization_id, idempotency_key
        )
        return {"organization_id": agency_bus.organization_id,
                "idempotency_key": idempotency_key,
                "sealed_referral": sealed_referral.model_dump(mode="json")}  # fmt: skip

    # No restart between any of these.
    replies = await agency_bus.send(
        agency_bus.envelope(data(new, "rotated-new")),
        agency_bus.envelope(data(old, "rotated-old")),
    )
    assert [reply.type for reply in replies] == [referral.ReferralAccepted.TYPE] * 2

    korpu("retire", old.key_id)
    [refused] = await agency_bus.send(agency_bus.envelope(data(old, "rotated-retired")))
    assert _errors(refused)[0]["message"] == (
        f"sealed to key {old.key_id}, which the referral service does not hold"
    )
    with pytest.raises(ValueError, match="newest"):
        intake_keys.retire(agency_bus.keys_dir, new.key_id)


def test_the_intake_keys_are_for_the_service_alone_on_disk(tmp_path: Path) -> None:
    key = intake_keys.current(tmp_path, create=True)
    private = tmp_path / "intake" / "private"
    assert private.stat().st_mode & 0o777 == 0o700
    assert (private / f"{key.key_id}.pem").stat().st_mode & 0o777 == 0o600
    with pytest.raises(intake_keys.NoIntakeKey):
        intake_keys.current(tmp_path / "elsewhere", create=False)
