"""Test helpers on a real Redis: write events as a publisher would, read what services wrote."""

from __future__ import annotations

import asyncio
import functools
import json
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import psutil
import redis
import redis.asyncio as aioredis

from korpu_contracts import entry_signature, intake, sealed, streams
from korpu_contracts.envelope import Envelope, Payload, source_of
from korpu_runtime import signing
from korpu_runtime.settings import ServiceSettings
from referral.adapters import intake_keys

Fields = dict[str, bytes | str]


def keys_dir() -> Path:
    """Where the services of this test run keep their keys (KORPU_KEYS_DIR or the data dir's)."""
    return ServiceSettings(service="tests").keys_dir


def signer(service: str) -> signing.Signer:
    """`service`'s own signing key, as its process would use it (made if it has none yet)."""
    return _signer(keys_dir(), service)


@functools.cache
def _signer(keys: Path, service: str) -> signing.Signer:
    return signing.Signer(keys, service, create=True)


def entry(stream: str, envelope: Envelope | str | bytes, as_service: str | None = None) -> Fields:
    """The fields of one stream entry as its producer's relay writes them, signed.

    Signed as `as_service`, by default the stream's own producer (`TESTS` on a
    stream of the tests' own); the intake, which agencies write, is not signed.
    """
    body = envelope.to_json() if isinstance(envelope, Envelope) else envelope
    fields: Fields = {streams.ENTRY_FIELD: body}
    service = as_service or producer(stream)
    return fields if service is None else signer(service).signed(stream, fields)


# The signer of entries on the tests' own streams: their subscriptions take it
# with `producers=bus.TESTS`.
TESTS = ("tests",)


def producer(stream: str) -> str | None:
    """Who writes `stream`: its producer, `tests` for a test's own, None for the intake."""
    writers = streams.producers_of(stream)
    if writers is None:
        return TESTS[0]
    return next(iter(writers), None)


def intake_key(keys: Path | None = None) -> sealed.IntakeKey:
    """The referral service's intake key as an agency is given it (made if it has none yet)."""
    return intake_keys.current(keys or keys_dir(), create=True)


def submission(
    organization_id: str,
    idempotency_key: str,
    referral: intake.ReferralRequest | Mapping[str, Any],
    keys: Path | None = None,
) -> intake.SubmitReferral:
    """The intake command as an agency sends it: the referral sealed to the service's key."""
    return intake.SubmitReferral(
        organization_id=organization_id,
        idempotency_key=idempotency_key,
        sealed_referral=sealed.seal_referral(
            referral, intake_key(keys), organization_id, idempotency_key
        ),
    )


def written(envelope: Envelope, **data: Any) -> str:
    """The envelope as JSON with `data` written over its payload's fields, unvalidated: a
    newer writer's event with a value this build's vocabulary lacks ("tutoring")."""
    document = json.loads(envelope.to_json())
    document["data"].update(data)
    return json.dumps(document)


def agency_entry(
    stream: str, envelope: Envelope | str | bytes, key: entry_signature.AgencyKey | None
) -> Fields:
    """The fields of one entry of an organization's intake `stream` as its agency writes
    it, signed with its bus key."""
    assert key is not None, "no bus key: the referral_service fixture makes one"
    body = envelope.to_json() if isinstance(envelope, Envelope) else envelope
    return key.signed(stream, {streams.ENTRY_FIELD: body})


async def publish(
    redis_url: str,
    stream: str,
    payload: Payload,
    subject: str,
    as_service: str | None = None,
    agency_key: entry_signature.AgencyKey | None = None,
    written_over: Mapping[str, Any] | None = None,
) -> Envelope:
    """XADD one event exactly as a relay would, signed; returns its envelope.

    Signed as `as_service`, by default the stream's producer; on a stream several
    services write (answers), the one the payload names as its `service`. On the
    intake, signed with `agency_key` (an organization's bus key) when given.
    `written_over`: payload fields sent as given, unvalidated (`written`).
    """
    named = str(getattr(payload, "service", ""))
    writers = streams.producers_of(stream) or ()
    default = named if named in writers else producer(stream)
    service = as_service or default
    source = source_of(service) if service else "agency/tests"
    envelope = Envelope.wrap(payload, source=source, subject=subject)
    body = written(envelope, **written_over) if written_over else envelope.to_json()
    client = aioredis.from_url(redis_url)
    try:
        fields = entry(stream, body, service)
        if agency_key is not None and streams.template_of(stream) == streams.INTAKE:
            fields = agency_entry(stream, body, agency_key)
        await client.xadd(stream, fields)  # type: ignore[arg-type]
    finally:
        await client.aclose()
    return envelope


async def read_events(redis_url: str, stream: str, event_type: str | None = None) -> list[Envelope]:
    """Every envelope on `stream`, oldest first, optionally only one type."""
    client = aioredis.from_url(redis_url)
    try:
        entries = await client.xrange(stream)
    finally:
        await client.aclose()
    found = [Envelope.from_json(fields[streams.ENTRY_FIELD.encode()]) for _, fields in entries]
    return [e for e in found if event_type is None or e.type == event_type]


async def wait_for_events(
    redis_url: str,
    stream: str,
    predicate: Callable[[list[Envelope]], bool],
    timeout: float = 10.0,  # noqa: ASYNC109 (a polling deadline, checked below)
    message: str = "events did not arrive",
) -> list[Envelope]:
    """Poll the stream until `predicate(envelopes)` holds, with a deadline."""
    deadline = time.monotonic() + timeout
    while True:
        found = await read_events(redis_url, stream)
        if predicate(found):
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"{message} (saw {len(found)} entries on {stream})")
        await asyncio.sleep(0.05)


def blocked_reads_of(redis_url: str, pid: int) -> int:
    """How many of process `pid`'s connections to Redis wait in a blocking read right now.

    Redis hands a new entry to a reader blocked on its stream at once, even when
    the process behind it is frozen: a test freezing a service waits for this to
    be 0 before it writes what the service must not receive.
    """
    client = redis.Redis.from_url(redis_url)
    try:
        redis_port = int(client.connection_pool.connection_kwargs.get("port", 6379))
        clients = client.client_list()
    finally:
        client.close()
    mine = {
        connection.laddr.port
        for connection in psutil.Process(pid).net_connections(kind="tcp")
        if connection.raddr and connection.raddr.port == redis_port
    }
    ports = [(int(found["addr"].rsplit(":", 1)[1]), found["flags"]) for found in clients]
    return sum(1 for port, flags in ports if port in mine and "b" in flags)
