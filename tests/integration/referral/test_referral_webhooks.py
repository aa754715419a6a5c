"""Webhooks to agencies (docs/webhooks.md): a receiver on loopback gets signed, thin deliveries
of its own organization's referrals only, retried on the schedule; on real Redis and databases."""

from __future__ import annotations

import contextlib
import datetime as dt
import itertools
import json
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from korpu_runtime.service import Service
from referral import bootstrap
from referral.adapters import organizations, tables, webhook_deliveries
from support import cli, webhook_receiver
from support.infra import wait_for
from support.referrals import referral_body
from support.webhook_receiver import Receiver

STATUS_CHANGED = "korpu.referral.status_changed"
# Shortened from the standard's days to under a second: three attempts in all.
SCHEDULE = "0,0.3,0.6"


@dataclass
class Agency:
    organization_id: str
    key: str

    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key}", "Idempotency-Key": uuid.uuid4().hex}


@dataclass
class Referrals:
    service: Service
    client: httpx.AsyncClient
    police: Agency
    ngo: Agency
    database_url: str
    data_dir: Path

    async def register(self, agency: Agency, url: str, **more: Any) -> httpx.Response:
        body = {"url": url, **more}
        return await self.client.post("/v1/webhooks", json=body, headers=agency.headers())

    async def submit(self, agency: Agency) -> str:
        answer = await self.client.post(
            "/v1/referrals", json=referral_body(), headers=agency.headers()
        )
        assert answer.status_code == 202, answer.text
        referral_id: str = answer.json()["id"]
        return referral_id

    async def log(self, agency: Agency, endpoint_id: str) -> list[dict[str, Any]]:
        answer = await self.client.get(
            f"/v1/webhooks/{endpoint_id}/deliveries", headers=agency.headers()
        )
        assert answer.status_code == 200, answer.text
        found: list[dict[str, Any]] = answer.json()
        return found


@contextlib.asynccontextmanager
async def _running(
    settings: bootstrap.Settings, tmp_path: Path, database_url: str
) -> AsyncIterator[Referrals]:
    app = bootstrap.build_app(settings)
    service: Service = app.state.service
    every_scope = organizations.SCOPES
    async with app.router.lifespan_context(app):

        def agency(name: str) -> Agency:
            def create(conn: sa.Connection) -> Agency:
                organization_id, _ = organizations.create(conn, name)
                _, key = organizations.create_key(conn, organization_id, every_scope)
                return Agency(organization_id, key)

            return service.db.transaction(create)

        police, ngo = agency("Police anti-trafficking unit"), agency("Ganja NGO")
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://referral") as client:
            yield Referrals(service, client, police, ngo, database_url, tmp_path)


def _settings(redis_db: str, database_url: str, tmp_path: Path, **more: Any) -> bootstrap.Settings:
    return bootstrap.Settings(
        redis_url=redis_db,
        database_url=database_url,
        data_dir=tmp_path,
        consumer_name="referral-webhooks",
        webhook_schedule_seconds=SCHEDULE,
        webhook_poll_seconds=0.05,
        webhook_timeout_seconds=2.0,
        **more,
    )


@pytest.fixture
async def referrals(redis_db: str, database_url: str, tmp_path: Path) -> AsyncIterator[Referrals]:
    settings = _settings(redis_db, database_url, tmp_path, webhooks_allow_private=True)
    async with _running(settings, tmp_path, database_url) as running:
        yield running


@pytest.fixture
async def guarded(redis_db: str, database_url: str, tmp_path: Path) -> AsyncIterator[Referrals]:
    """As in production: private and loopback targets refused."""
    settings = _settings(redis_db, database_url, tmp_path)
    async with _running(settings, tmp_path, database_url) as running:
        yield running


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with webhook_receiver.running() as found:
        yield found


@pytest.fixture
def other_receiver() -> Iterator[Receiver]:
    with webhook_receiver.running() as found:
        yield found


async def _deliveries(receiver: Receiver, referral_id: str, count: int = 1) -> list[Any]:
    async def arrived() -> list[Any]:
        found = receiver.of_referral(referral_id)
        return found if len(found) >= count else []

    return await wait_for(arrived, timeout=30, message=f"fewer than {count} deliveries arrived")


async def test_a_receiver_gets_signed_deliveries_of_its_own_organizations_referrals_only(
    referrals: Referrals, receiver: Receiver, other_receiver: Receiver
) -> None:
    police = await referrals.register(referrals.police, receiver.url)
    ngo = await referrals.register(referrals.ngo, other_receiver.url, events=[STATUS_CHANGED])
    assert (police.status_code, ngo.status_code) == (201, 201), police.text
    secret = police.json()["secret"]
    assert secret.startswith("whsec_")

    police_referral = await referrals.submit(referrals.police)
    ngo_referral = await referrals.submit(referrals.ngo)
    delivered = (await _deliveries(receiver, police_referral))[0]
    await _deliveries(other_receiver, ngo_referral)

    assert webhook_receiver.verify(secret, delivered)
    assert not webhook_receiver.verify(ngo.json()["secret"], delivered)
    assert delivered.payload["type"] == STATUS_CHANGED
    assert delivered.payload["data"] == {"referral_id": police_referral, "status": "coordinating"}
    assert set(delivered.payload) == {"type", "timestamp", "data"}
    # Thin: nothing of the person, nor even the agency's own reference.
    for personal in ("Aysel", "Məmmədova", "2001-04-12", "+994501234567", "POL-2026-0001"):
        assert personal.encode() not in delivered.body
    # Each organization hears of its own referrals, never of the other's.
    assert other_receiver.of_referral(police_referral) == []
    assert receiver.of_referral(ngo_referral) == []


async def test_a_receiver_answering_500_is_retried_on_the_schedule_then_given_up(
    referrals: Referrals, receiver: Receiver
) -> None:
    receiver.script = [(500, {})] * 10
    endpoint = (await referrals.register(referrals.police, receiver.url)).json()
    referral_id = await referrals.submit(referrals.police)

    attempts = await _deliveries(receiver, referral_id, count=3)
    gaps = [later.at - earlier.at for earlier, later in itertools.pairwise(attempts)]
    # 0.3 s then 0.6 s, each give or take a fifth.
    assert gaps[0] >= 0.3 * 0.8 and gaps[1] >= 0.6 * 0.8, gaps
    assert len({a.headers["webhook-id"] for a in attempts}) == 1, "one message, tried again"

    async def given_up() -> list[dict[str, Any]]:
        log = await referrals.log(referrals.police, endpoint["id"])
        return [d for d in log if d["referral_id"] == referral_id and d["state"] == "failed"]

    failed = (await wait_for(given_up, timeout=10, message="never given up"))[0]
    assert [a["status_code"] for a in failed["attempts"]] == [500, 500, 500]
    assert len(receiver.of_referral(referral_id)) == 3


async def test_a_410_stops_the_deliveries_and_disables_the_endpoint(
    referrals: Referrals, receiver: Receiver
) -> None:
    receiver.script = [(410, {})]
    endpoint = (await referrals.register(referrals.police, receiver.url)).json()
    first = await referrals.submit(referrals.police)
    await _deliveries(receiver, first)

    async def disabled() -> bool:
        listed = await referrals.client.get("/v1/webhooks", headers=referrals.police.headers())
        return listed.json()[0]["disabled_at"] is not None

    await wait_for(disabled, timeout=10, message="the endpoint was not disabled")
    log = await referrals.log(referrals.police, endpoint["id"])
    assert [d["state"] for d in log] == ["gone"]
    second = await referrals.submit(referrals.police)
    # The next change is written while the endpoint is disabled: no delivery at all.
    assert all(
        d["referral_id"] != second for d in await referrals.log(referrals.police, endpoint["id"])
    )
    assert len(receiver.received) == 1


async def test_a_429_with_retry_after_is_tried_again_no_sooner_than_asked(
    referrals: Referrals, receiver: Receiver
) -> None:
    receiver.script = [(429, {"Retry-After": "2"})]
    await referrals.register(referrals.police, receiver.url)
    referral_id = await referrals.submit(referrals.police)
    first, second = (await _deliveries(receiver, referral_id, count=2))[:2]
    # The schedule alone would have tried again after 0.3 s.
    assert second.at - first.at >= 1.9


async def test_after_a_rotation_both_secrets_sign_until_the_old_one_expires(
    referrals: Referrals, receiver: Receiver
) -> None:
    registered = (await referrals.register(referrals.police, receiver.url)).json()
    rotated = await referrals.client.post(
        f"/v1/webhooks/{registered['id']}/rotate", headers=referrals.police.headers()
    )
    assert rotated.status_code == 200
    new_secret = rotated.json()["secret"]
    assert new_secret != registered["secret"]

    delivered = (await _deliveries(receiver, await referrals.submit(referrals.police)))[0]
    assert len(delivered.headers["webhook-signature"].split(" ")) == 2
    assert webhook_receiver.verify(new_secret, delivered)
    assert webhook_receiver.verify(registered["secret"], delivered)
    listed = await referrals.client.get("/v1/webhooks", headers=referrals.police.headers())
    assert listed.json()[0]["previous_secret_until"] is not None
    assert "secret" not in listed.json()[0]


async def test_a_secret_is_stored_sealed_never_as_given(
    referrals: Referrals, receiver: Receiver
) -> None:
    secret = (await referrals.register(referrals.police, receiver.url)).json()["secret"]
    stored = await referrals.service.db.run(
        lambda conn: conn.execute(sa.select(tables.webhook_endpoints.c.secret)).scalar_one()
    )
    assert secret not in stored and secret.removeprefix("whsec_") not in stored


@pytest.mark.parametrize(
    "url",
    [
        "https://127.0.0.1/hooks",
        "https://localhost/hooks",
        "https://[::1]/hooks",
        "https://10.0.0.7/hooks",
        "https://169.254.169.254/latest/meta-data",
        "https://[::ffff:192.168.0.1]/hooks",
        "http://93.184.215.14/hooks",  # public, but not https
        "https://user:pass@93.184.215.14/hooks",
        "ftp://93.184.215.14/hooks",
    ],
)
async def test_a_private_loopback_or_plain_http_target_is_refused(
    guarded: Referrals, url: str
) -> None:
    answer = await guarded.register(guarded.police, url)
    assert answer.status_code == 422, answer.text
    assert answer.json()["errors"][0]["field"] == "url"
    assert url not in answer.text or url.startswith("ftp"), "the refusal names no address"


async def test_a_target_turned_private_after_registration_is_not_called(
    guarded: Referrals, receiver: Receiver
) -> None:
    # As a name pointed at 127.0.0.1 after it was checked: written past the route's check.
    def registered_earlier(conn: sa.Connection) -> str:
        from referral.service_layer import webhooks

        endpoint, _ = webhooks.register(conn, guarded.police.organization_id, receiver.url, [], 10)
        return endpoint.id

    endpoint_id = await guarded.service.db.run(registered_earlier)
    referral_id = await guarded.submit(guarded.police)

    async def refused() -> list[dict[str, Any]]:
        log = await guarded.log(guarded.police, endpoint_id)
        return [d for d in log if d["referral_id"] == referral_id and d["attempts"]]

    delivery = (await wait_for(refused, timeout=10, message="never attempted"))[0]
    assert delivery["attempts"][0]["error"] == "address_refused"
    assert receiver.received == []


async def test_another_organization_can_neither_see_rotate_read_nor_remove_an_endpoint(
    referrals: Referrals, receiver: Receiver
) -> None:
    endpoint_id = (await referrals.register(referrals.police, receiver.url)).json()["id"]
    ngo = referrals.ngo.headers()
    listed = await referrals.client.get("/v1/webhooks", headers=ngo)
    assert listed.json() == []
    for method, path in [
        ("POST", f"/v1/webhooks/{endpoint_id}/rotate"),
        ("GET", f"/v1/webhooks/{endpoint_id}/deliveries"),
        ("DELETE", f"/v1/webhooks/{endpoint_id}"),
    ]:
        answer = await referrals.client.request(method, path, headers=ngo)
        assert answer.status_code == 404, (method, path)
        nobody = await referrals.client.request(method, path)
        assert nobody.status_code == 401
    removed = await referrals.client.delete(
        f"/v1/webhooks/{endpoint_id}", headers=referrals.police.headers()
    )
    assert removed.status_code == 204


async def test_a_key_without_webhooks_manage_is_refused(referrals: Referrals) -> None:
    def default_key(conn: sa.Connection) -> str:
        _, key = organizations.create_key(
            conn, referrals.police.organization_id, organizations.DEFAULT_SCOPES
        )
        return key

    key = await referrals.service.db.run(default_key)
    answer = await referrals.client.get("/v1/webhooks", headers={"Authorization": f"Bearer {key}"})
    assert answer.status_code == 403
    assert answer.json()["missing_scope"] == "webhooks:manage"


async def test_an_unknown_event_type_and_too_many_endpoints_are_refused(
    referrals: Referrals, receiver: Receiver
) -> None:
    unknown = await referrals.register(referrals.police, receiver.url, events=["korpu.nothing"])
    assert unknown.status_code == 422
    for _ in range(10):
        assert (await referrals.register(referrals.police, receiver.url)).status_code == 201
    eleventh = await referrals.register(referrals.police, receiver.url)
    assert eleventh.status_code == 409


async def test_redelivery_from_the_command_line_sends_again_one_or_a_time_range(
    referrals: Referrals, receiver: Receiver
) -> None:
    endpoint_id = (await referrals.register(referrals.police, receiver.url)).json()["id"]
    referral_id = await referrals.submit(referrals.police)
    await _deliveries(receiver, referral_id)
    log = await referrals.log(referrals.police, endpoint_id)
    delivery_id = log[0]["id"]
    env = {"REFERRAL_DATABASE_URL": referrals.database_url}

    listed = cli.korpu(
        "webhooks", "list", referrals.police.organization_id, "--json",
        data_dir=referrals.data_dir, env=env,
    )  # fmt: skip
    assert listed.returncode == 0, listed.stderr
    assert '"id": "' + endpoint_id in listed.stdout and "whsec_" not in listed.stdout
    shown = cli.korpu("webhooks", "deliveries", endpoint_id, data_dir=referrals.data_dir, env=env)
    assert shown.returncode == 0 and delivery_id in shown.stdout, shown.stderr

    one = cli.korpu("webhooks", "redeliver", delivery_id, data_dir=referrals.data_dir, env=env)
    assert one.returncode == 0, one.stderr
    again = await _deliveries(receiver, referral_id, count=2)
    assert again[1].headers["webhook-id"] == again[0].headers["webhook-id"]

    ranged = cli.korpu(
        "webhooks", "redeliver", endpoint_id, "--since", "1h", "--json",
        data_dir=referrals.data_dir, env=env,
    )  # fmt: skip
    assert ranged.returncode == 0, ranged.stderr
    assert '"redelivered": 1' in ranged.stdout
    await _deliveries(receiver, referral_id, count=3)

    unknown = cli.korpu(
        "webhooks", "redeliver", str(uuid.uuid4()), data_dir=referrals.data_dir, env=env
    )
    assert unknown.returncode == 1 and "no webhook delivery" in unknown.stderr


async def test_a_secret_still_signs_after_the_data_keys_are_rotated(
    referrals: Referrals, receiver: Receiver
) -> None:
    secret = (await referrals.register(referrals.police, receiver.url)).json()["secret"]
    rotation = cli.korpu(
        "keys", "rotate", "--json", data_dir=referrals.data_dir,
        env={"REFERRAL_DATABASE_URL": referrals.database_url},
    )  # fmt: skip
    assert rotation.returncode == 0, rotation.stderr
    result = json.loads(rotation.stdout)
    assert result["re_encrypted"]["webhook_endpoints"] == 1 and result["remaining"] == 0
    stored = await referrals.service.db.run(
        lambda conn: conn.execute(sa.select(tables.webhook_endpoints.c.secret)).scalar_one()
    )
    assert stored.startswith(result["key_id"] + ":")

    delivered = (await _deliveries(receiver, await referrals.submit(referrals.police)))[0]
    assert webhook_receiver.verify(secret, delivered)


async def test_the_log_forgets_finished_deliveries_after_its_retention_never_pending_ones(
    referrals: Referrals, receiver: Receiver
) -> None:
    endpoint_id = (await referrals.register(referrals.police, receiver.url)).json()["id"]
    delivered = await referrals.submit(referrals.police)
    await _deliveries(receiver, delivered)

    async def finished() -> bool:
        log = await referrals.log(referrals.police, endpoint_id)
        return [d["state"] for d in log] == ["delivered"]

    await wait_for(finished, message="never delivered")
    receiver.script = [(500, {})] * 10
    owed = await referrals.submit(referrals.police)
    await _deliveries(receiver, owed)
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=1)
    pruned = await referrals.service.db.run(lambda conn: webhook_deliveries.prune(conn, later))
    assert pruned >= 1
    log = await referrals.log(referrals.police, endpoint_id)
    assert [d["referral_id"] for d in log if d["state"] == "pending"] == [owed]
    assert all(d["referral_id"] != delivered for d in log)
