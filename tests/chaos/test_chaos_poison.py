"""Poison on every input stream mid-burst: each bad entry set aside, all else completes."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import redis

from korpu_contracts import intake, providers, referral, streams
from korpu_contracts.envelope import Envelope, source_of
from korpu_runtime import signing
from support import stack
from support.agency import Burst
from support.chaos import operator, system, verdict, workload
from support.chaos.report import Report
from support.infra import wait_until
from support.private_redis import PrivateRedis

pytestmark = system.MARKS

BURST = 300
# The type each stream's readers expect, for a poison entry that looks right but is not.
EXPECTED_TYPE = {
    streams.INTAKE: intake.SubmitReferral.TYPE,
    **{stream: referral.TaskRequested.TYPE for stream in streams.REQUESTS_BY_SERVICE.values()},
    **{stream: providers.TaskUpdated.TYPE for stream in streams.UPDATES_BY_SERVICE.values()},
}


def _envelope(stream: str, event_type: str, data: dict[str, object]) -> str:
    return Envelope(
        id=str(uuid.uuid4()),
        type=event_type,
        dataschemaversion=1,
        # Sent as the stream's own producer would send it: a poison, not a forgery.
        source=source_of(_producer(stream)) if _producer(stream) else "agency/chaos",
        time=datetime.now(UTC),
        subject="chaos-poison",
        correlationid="chaos-poison",
        data=data,
    ).to_json()


def _producer(stream: str) -> str | None:
    return next(iter(streams.producers_of(stream) or ()), None)


def _poisons(stream: str) -> dict[str, str]:
    return {
        "garbage": "\x00{not json at all",
        "unknown type": _envelope(stream, "korpu.chaos.never_heard_of", {"anything": 1}),
        "invalid data": _envelope(
            stream, EXPECTED_TYPE[stream], {"task_id": 42, "status": "maybe"}
        ),
    }


def _poison_every_input_stream(
    redis_url: str, keys_dir: Path, organization_id: str
) -> dict[str, set[str]]:
    """XADD the three poisons to each stream a service reads (an organization's intake
    for the intake's), signed by the stream's producer as its relay would; returns the
    entry ids by stream."""
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    try:
        poisoned: dict[str, set[str]] = {}
        for template in EXPECTED_TYPE:
            stream = template.format(organization_id=organization_id)
            producer = _producer(stream)
            signer = signing.Signer(keys_dir, producer, create=True) if producer else None
            poisoned[stream] = set()
            for body in _poisons(template).values():
                fields: dict[str, str | bytes] = {streams.ENTRY_FIELD: body}
                entry = signer.signed(stream, fields) if signer else fields
                poisoned[stream].add(str(client.xadd(stream, entry)))  # type: ignore[arg-type]
        return poisoned
    finally:
        client.close()


def _rejected_intake_entries(redis_url: str, organization_id: str) -> set[str]:
    """Intake entries the referral service answered `korpu.referral.rejected` for."""
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    try:
        replies: list[tuple[str, dict[str, str]]] = client.xrange(  # type: ignore[assignment]
            streams.intake_replies(organization_id)
        )
    finally:
        client.close()
    found = set()
    for _, fields in replies:
        envelope = json.loads(fields[streams.ENTRY_FIELD])
        if envelope["type"] == referral.ReferralRejected.TYPE:
            found.add(envelope["data"]["intake_entry_id"])
    return found


def _accepted(burst: Burst, count: int) -> Callable[[], bool]:
    return lambda: burst.accepted >= count


def test_poison_on_every_input_stream_is_set_aside_and_the_burst_completes(
    own_redis: PrivateRedis, tmp_path: Path, report: Report
) -> None:
    with system.running(tmp_path / "data", own_redis.url) as (_stack, agency):
        burst = Burst(agency, workload.submissions(BURST)).start()
        wait_until(_accepted(burst, BURST // 3), timeout=60, interval=0.01)
        organization_id = stack.bus_organization()
        intake_stream = streams.intake(organization_id)
        poisoned = _poison_every_input_stream(
            own_redis.url, tmp_path / "data" / "keys", organization_id
        )
        report.note(
            f"3 poison entries (garbage, unknown type, invalid data) on each of "
            f"{len(poisoned)} input streams after {burst.accepted} referrals accepted"
        )
        referral_ids = burst.join()
        # Intake answers bad entries itself (rejected, kept in its database, README: Delivery);
        # every other reader moves them to the dead letters at once: no retry can help.
        to_dead_letters = {s: ids for s, ids in poisoned.items() if s != intake_stream}
        expected = sum(len(ids) for ids in to_dead_letters.values())
        verdict.settle_and_check(
            report, agency, BURST, referral_ids, own_redis.url, dead_letters=expected
        )
        letters = operator.dead_letters(own_redis.url)
        dead = {(letter["origin_stream"], letter["origin_id"]) for letter in letters}
        wanted = {(stream, entry) for stream, ids in to_dead_letters.items() for entry in ids}
        report.check(
            dead == wanted,
            f"dead letters are exactly the {len(wanted)} poison entries of "
            f"{len(to_dead_letters)} streams: missing {len(wanted - dead)}, "
            f"others {len(dead - wanted)}",
        )
        deliveries = sorted({int(letter["deliveries"]) for letter in letters})
        report.check(
            deliveries == [1],
            f"each set aside at its first failure, never retried: deliveries {deliveries}",
        )
        rejected = _rejected_intake_entries(own_redis.url, organization_id)
        report.check(
            rejected == poisoned[intake_stream],
            f"intake answered korpu.referral.rejected for {len(rejected)} of "
            f"{len(poisoned[intake_stream])} poison entries",
        )
    assert not report.problems, report.text()
