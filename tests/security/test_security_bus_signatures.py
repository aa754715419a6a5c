"""Forged and altered events on the bus are never applied, on a Redis with no ACL at all.

The attacker can XADD anything to any stream (as on a Redis without users); what
stops them is the producer's signature and the origin checks of the reader. Each
forged entry goes to the dead letters at once, with the reason, and changes
nothing; the genuine answer that follows is still applied.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import redis.asyncio as aioredis
import sqlalchemy as sa

from korpu_contracts import providers, referral, streams
from korpu_contracts.envelope import Envelope, source_of
from korpu_contracts.vocabulary import Service, TaskStatus
from korpu_runtime import signing
from shelter import bootstrap as shelter_bootstrap
from shelter.adapters import tables as shelter_tables
from support import bus
from support.infra import wait_for
from support.referrals import ReferralService, referral_body


async def _submit(referral_service: ReferralService) -> tuple[str, dict[str, Envelope]]:
    answer = await referral_service.client.post(
        "/v1/referrals", json=referral_body(), headers=referral_service.headers()
    )
    assert answer.status_code == 202
    referral_id: str = answer.json()["id"]
    # The shelter's alone: the others are sent once it has answered (docs/domain.md).
    events = await bus.wait_for_events(
        referral_service.redis_url, streams.SHELTER_REQUESTS, lambda found: len(found) >= 1
    )
    return referral_id, {"shelter": next(e for e in events if e.subject == referral_id)}


def _update(request: Envelope, **changes: Any) -> providers.TaskUpdated:
    asked = referral.TaskRequested.model_validate(request.data)
    fields: dict[str, Any] = {
        "task_id": asked.task_id,
        "referral_id": asked.referral_id,
        "service": asked.service,
        "status": TaskStatus.REJECTED,
        "detail": {"note": "free text from an attacker"},
        "revision": 1_000_000,
    }
    return providers.TaskUpdated(**{**fields, **changes})


def _envelope(update: providers.TaskUpdated, *, source: str) -> Envelope:
    return Envelope.wrap(update, source=source, subject=update.referral_id)


Forgery = tuple[str, dict[str, Any]]


def _forgeries(requests: dict[str, Envelope], elsewhere: Path) -> dict[str, Forgery]:
    """Entries an attacker able to XADD to the answers streams could write, by name."""
    shelter_task = _update(requests["shelter"])
    stream, legal_aid_stream = streams.SHELTER_UPDATES, streams.LEGAL_AID_UPDATES
    as_shelter = _envelope(shelter_task, source=source_of("shelter"))
    stranger = signing.Signer(elsewhere, "shelter", create=True)  # a key nobody trusts
    tampered = bus.entry(stream, as_shelter, "shelter")
    tampered[streams.ENTRY_FIELD] = as_shelter.to_json().replace("1000000", "1000001")
    legal_aid_about_shelter = _update(requests["shelter"], service=Service.LEGAL_AID)
    other_referral = _update(requests["shelter"], referral_id="another-referral")
    as_legal_aid = _envelope(legal_aid_about_shelter, source=source_of("legal_aid"))
    return {
        "unsigned": (stream, {streams.ENTRY_FIELD: as_shelter.to_json()}),
        "a key the readers do not hold": (
            stream,
            stranger.signed(stream, {streams.ENTRY_FIELD: as_shelter.to_json()}),
        ),
        "altered after signing": (stream, tampered),
        "signed for another stream": (stream, bus.entry(streams.SHELTER_REQUESTS, as_shelter)),
        "signed by shelter, sent as legal aid": (
            stream,
            bus.entry(stream, _envelope(shelter_task, source=source_of("legal_aid")), "shelter"),
        ),
        "shelter's key on legal aid's stream": (
            legal_aid_stream,
            bus.entry(legal_aid_stream, as_shelter, "shelter"),
        ),
        "legal aid answering for a shelter task": (
            legal_aid_stream,
            bus.entry(legal_aid_stream, as_legal_aid, "legal_aid"),
        ),
        "the task's provider naming another referral": (
            stream,
            bus.entry(stream, _envelope(other_referral, source=source_of("shelter")), "shelter"),
        ),
        "the referral service's key on an answer": (
            stream,
            bus.entry(stream, _envelope(shelter_task, source=source_of("referral")), "referral"),
        ),
    }


async def _dead_letters(redis: aioredis.Redis, reader: str) -> list[dict[bytes, bytes]]:
    return [fields for _, fields in await redis.xrange(streams.dead_letters(reader))]


async def test_forged_answers_are_dead_lettered_and_never_applied(
    referral_service: ReferralService, tmp_path: Path
) -> None:
    referral_id, requests = await _submit(referral_service)
    redis = referral_service.service.redis
    forgeries = _forgeries(requests, tmp_path)
    for stream, fields in forgeries.values():
        await redis.xadd(stream, fields)

    async def all_refused() -> list[dict[bytes, bytes]] | None:
        letters = await _dead_letters(redis, "referral")
        return letters if len(letters) >= len(forgeries) else None

    letters = await wait_for(all_refused, message="not every forgery was dead-lettered")
    reasons = [letter[b"error"].decode() for letter in letters]
    assert all(reason.startswith("refused: ") for reason in reasons), reasons
    assert all(letter[b"deliveries"] == b"1" for letter in letters), "refusals are never retried"
    assert referral_service.service.refused_total == len(forgeries)
    for stream in streams.UPDATES_BY_SERVICE.values():
        info = await redis.xinfo_groups(stream)
        assert info[0]["pending"] == 0, "a refused entry was left pending, to be retried"

    view = await _view(referral_service, referral_id)
    assert view["services"]["shelter"]["status"] == "requested", view
    assert "free text from an attacker" not in json.dumps(view)

    # The shelter's own answer, signed with its key, is applied as before.
    genuine = _update(requests["shelter"], status=TaskStatus.ACCEPTED, revision=1, detail={})
    await bus.publish(referral_service.redis_url, streams.SHELTER_UPDATES, genuine, referral_id)

    async def accepted() -> bool:
        view = await _view(referral_service, referral_id)
        return bool(view["services"]["shelter"]["status"] == "accepted")

    await wait_for(accepted, message="the genuine answer was not applied after the forgeries")


async def _view(referral_service: ReferralService, referral_id: str) -> dict[str, Any]:
    answer = await referral_service.client.get(
        f"/v1/referrals/{referral_id}", headers=referral_service.headers()
    )
    view: dict[str, Any] = answer.json()
    return view


async def test_a_forged_request_takes_no_bed(redis_db: str, database_url: str) -> None:
    settings = shelter_bootstrap.Settings(
        redis_url=redis_db, database_url=database_url, consumer_name="shelter-1"
    )
    service = shelter_bootstrap.build_service(settings)
    await service.start()
    try:
        bed = {"name": "Baku shelter", "region": "Baku", "serves": ["women"], "beds": 1}
        await service.db.run(lambda conn: shelter_bootstrap.SERVICE.load(conn, [bed]))
        requested = referral.TaskRequested(
            task_id="forged-1",
            referral_id="no-such-referral",
            service="shelter",
            region="Baku",
            is_child=False,
            sex="female",
            age_years=30,
        )
        stream = streams.SHELTER_REQUESTS
        envelope = Envelope.wrap(requested, source=source_of("referral"), subject="x")
        forgeries = [
            {streams.ENTRY_FIELD: envelope.to_json()},
            bus.entry(stream, envelope, "shelter"),
            bus.entry(stream, envelope, "employment"),
        ]
        for fields in forgeries:
            await service.redis.xadd(stream, fields)  # type: ignore[arg-type]

        async def refused() -> bool:
            return len(await _dead_letters(service.redis, "shelter")) == len(forgeries)

        await wait_for(refused, message="the forged requests were not all dead-lettered")
        tasks = shelter_tables.tasks
        count = sa.select(sa.func.count()).select_from(tasks)
        assert await service.db.run(lambda conn: conn.execute(count).scalar_one()) == 0
        assert await service.redis.xlen(streams.SHELTER_UPDATES) == 0, "a forgery was answered"
    finally:
        await service.stop()
