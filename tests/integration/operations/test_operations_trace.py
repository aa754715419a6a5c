"""`korpu trace`: where a referral's events stand now, across streams, dead letters, outboxes.

Entries and outbox rows are written here as the runtime writes them (signed, read
through consumer groups, acknowledged or not, dead-lettered by the runtime's own
function, published into a service's SQLite outbox), without running the services.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import redis
import redis.asyncio as aioredis
import sqlalchemy as sa

from korpu import redis_acl, trace
from korpu_contracts import providers, referral, streams, vocabulary
from korpu_contracts.envelope import Envelope, source_of
from korpu_runtime import redelivery, tables
from korpu_runtime.consumer import Subscription
from korpu_runtime.unit_of_work import UnitOfWork
from support import bus
from support.acl_redis import embedded_users

ORGANIZATION = "0f0e0d0c-0b0a-4909-8807-060504030201"
SHELTER = streams.requests(vocabulary.Service.SHELTER)
ANSWERS = streams.updates(vocabulary.Service.SHELTER)
# A person's name, put into intake entries: it must never come out of a trace.
NAME = "Markerova"


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The services' databases in a folder of the test's own; the run's keys, which sign."""
    monkeypatch.setenv("KORPU_KEYS_DIR", str(bus.keys_dir()))
    monkeypatch.setenv("KORPU_DATA_DIR", str(tmp_path))
    return tmp_path


@pytest.fixture
def client(redis_db: str, data_dir: Path) -> Iterator[redis.Redis]:
    with redis.Redis.from_url(redis_db, decode_responses=True) as client:
        yield client


def _request(referral_id: str, cause: Envelope | None = None) -> Envelope:
    payload = referral.TaskRequested(
        task_id=str(uuid.uuid4()),
        referral_id=referral_id,
        service=vocabulary.Service.SHELTER,
        region="AZ-BA",
        is_child=False,
        sex="female",
    )
    if cause is not None:
        return cause.caused(payload, source=source_of("referral"), subject=referral_id)
    return Envelope.wrap(payload, source=source_of("referral"), subject=referral_id)


def _answer(request: Envelope) -> Envelope:
    return providers.answer(
        source=source_of("shelter"),
        service=vocabulary.Service.SHELTER,
        task_id=request.data["task_id"],
        referral_id=request.subject,
        status=vocabulary.TaskStatus.ACCEPTED,
        revision=1,
        cause=request,
    )


def _sent(client: redis.Redis, stream: str, envelope: Envelope | str) -> str:
    """XADD as the stream's producer's relay does, signed; its entry id."""
    return str(client.xadd(stream, bus.entry(stream, envelope)))  # type: ignore[arg-type]


def _read(client: redis.Redis, stream: str, group: str, *, ack: bool) -> None:
    """Every entry of `stream` delivered to `group`, acknowledged (handled) or left pending."""
    delivered: Any = client.xreadgroup(group, f"{group}-1", {stream: ">"})
    for _, entries in delivered:
        for entry_id, _ in entries:
            if ack:
                client.xack(stream, group, entry_id)


def _groups(client: redis.Redis, *pairs: tuple[str, str]) -> None:
    for stream, group in pairs:
        client.xgroup_create(stream, group, id="0", mkstream=True)


def _kinds(found: trace.Trace) -> list[list[str]]:
    return [[state.kind for state in step.state] for step in found.steps]


def _korpu(redis_url: str, data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "REDIS_URL": redis_url, "KORPU_DATA_DIR": str(data_dir)}
    return subprocess.run(
        [sys.executable, "-m", "korpu", "trace", *args],
        capture_output=True,
        text=True,
        env=env,
        stdin=subprocess.DEVNULL,
        timeout=60,
        check=False,
    )


def test_a_referral_whose_events_were_all_handled_reads_done_in_order(
    client: redis.Redis,
) -> None:
    _groups(client, (SHELTER, "shelter"), (ANSWERS, streams.GROUP_REFERRAL_COORDINATOR))
    referral_id = str(uuid.uuid4())
    request = _request(referral_id)
    _sent(client, SHELTER, request)
    _read(client, SHELTER, "shelter", ack=True)
    answer = _answer(request)
    _sent(client, ANSWERS, answer)
    _read(client, ANSWERS, streams.GROUP_REFERRAL_COORDINATOR, ack=True)
    _sent(client, SHELTER, _request(str(uuid.uuid4())))  # another person's: not in the trace

    found = trace.find(client, referral_id)

    assert [(s.event_id, s.service, s.stream) for s in found.steps] == [
        (request.id, "referral", SHELTER),
        (answer.id, "shelter", ANSWERS),
    ]
    assert _kinds(found) == [["done"], ["done"]]
    assert [s.state[0].group for s in found.steps] == ["shelter", "referral-coordinator"]
    assert not found.truncated


def test_an_event_read_and_not_acknowledged_is_pending_in_its_group(
    client: redis.Redis, redis_db: str, data_dir: Path
) -> None:
    _groups(client, (SHELTER, "shelter"))
    request = _request(str(uuid.uuid4()))
    _sent(client, SHELTER, request)
    _read(client, SHELTER, "shelter", ack=False)

    [step] = trace.find(client, request.id).steps

    [state] = step.state
    assert (state.kind, state.group, state.consumer, state.deliveries) == (
        "pending",
        "shelter",
        "shelter-1",
        1,
    )
    shown = _korpu(redis_db, data_dir, request.id)
    assert shown.returncode == 0, shown.stderr
    assert "pending in shelter (shelter-1, 1 delivery" in shown.stdout
    assert "korpu.task.requested v2" in shown.stdout


def test_an_event_not_yet_read_by_a_group_says_so(client: redis.Redis) -> None:
    _groups(client, (SHELTER, "shelter"))
    request = _request(str(uuid.uuid4()))
    _sent(client, SHELTER, request)

    [step] = trace.find(client, request.subject).steps

    assert step.state == (trace.State("undelivered", group="shelter"),)


async def test_an_event_given_up_on_reads_dead_lettered_by_its_reader(
    client: redis.Redis, redis_db: str
) -> None:
    _groups(client, (SHELTER, "shelter"))
    request = _request(str(uuid.uuid4()))
    entry_id = _sent(client, SHELTER, request)
    _read(client, SHELTER, "shelter", ack=False)
    await _dead_letter(redis_db, SHELTER, "shelter", entry_id)

    [step] = trace.find(client, request.subject).steps

    [state] = step.state
    letters: Any = client.xrange(streams.dead_letters("shelter"))
    [letter_id] = [letter_id for letter_id, _ in letters]
    assert (state.kind, state.service, state.group, state.dead_letter_id) == (
        "dead_lettered",
        "shelter",
        "shelter",
        letter_id,
    )
    assert state.forged is None  # signed by the shelter, which reads the stream
    assert step.entry_id == entry_id


def test_an_event_never_sent_reads_unsent_in_its_services_outbox_and_one_lost_reads_gone(
    client: redis.Redis, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REFERRAL_DATABASE_URL", database_url)
    referral_id = str(uuid.uuid4())
    lost, unsent = _request(referral_id), _request(referral_id)
    # Sent, then lost with Redis (or trimmed): the outbox keeps it for `korpu recover`.
    _published_into_outbox(database_url, SHELTER, lost, sent=True)
    _published_into_outbox(database_url, SHELTER, unsent)

    found = trace.find(client, referral_id)

    assert [(s.event_id, s.service, s.stream, s.entry_id) for s in found.steps] == [
        (lost.id, "referral", SHELTER, None),
        (unsent.id, "referral", SHELTER, None),
    ]
    assert [[state.describe() for state in step.state] for step in found.steps] == [
        ["sent by referral, gone from its stream (trimmed, or lost: `korpu recover`)"],
        ["unsent in referral's outbox"],
    ]
    assert found.unread_outboxes == ()


def test_a_correlation_id_an_event_id_and_the_referral_id_find_the_same_chain(
    client: redis.Redis,
) -> None:
    _groups(client, (SHELTER, "shelter"), (ANSWERS, streams.GROUP_REFERRAL_COORDINATOR))
    referral_id, intake_correlation = str(uuid.uuid4()), str(uuid.uuid4())
    replies = streams.intake_replies(ORGANIZATION)
    # The intake reply carries on the agency's correlation; the tasks start the referral's.
    accepted = Envelope.wrap(
        referral.ReferralAccepted(
            organization_id=ORGANIZATION,
            idempotency_key="key-1",
            agency_reference="ref-1",
            referral_id=referral_id,
        ),
        source=source_of("referral"),
        subject="submission-1",
        correlationid=intake_correlation,
    )
    _sent(client, replies, accepted)
    request = _request(referral_id)
    _sent(client, SHELTER, request)
    _read(client, SHELTER, "shelter", ack=True)
    _sent(client, ANSWERS, _answer(request))

    chains = [
        [step.event_id for step in trace.find(client, wanted).steps]
        for wanted in (intake_correlation, request.id, referral_id)
    ]

    assert chains[0] == chains[1] == chains[2]
    assert chains[0][:2] == [accepted.id, request.id] and len(chains[0]) == 3
    assert _kinds(trace.find(client, referral_id)) == [["unread"], ["done"], ["undelivered"]]


def test_a_long_stream_is_read_newest_first_up_to_the_bound_which_the_trace_admits(
    client: redis.Redis,
) -> None:
    for _ in range(30):
        _sent(client, SHELTER, _request(str(uuid.uuid4())))
    newest = _request(str(uuid.uuid4()))
    _sent(client, SHELTER, newest)

    found = trace.find(client, newest.subject, limit=10)

    assert [step.event_id for step in found.steps] == [newest.id]
    assert (found.scanned, found.truncated) == (10, True)
    assert "stopped after 10 entries" in trace.table(found)


def test_an_id_nothing_names_finds_nothing_and_the_command_fails_in_one_line(
    client: redis.Redis, redis_db: str, data_dir: Path
) -> None:
    _sent(client, SHELTER, _request(str(uuid.uuid4())))
    unknown = str(uuid.uuid4())

    assert trace.find(client, unknown).steps == []
    done = _korpu(redis_db, data_dir, unknown, "--json")
    assert done.returncode == 1
    assert done.stdout == ""
    assert done.stderr.count("\n") == 1 and f"nothing found for {unknown}" in done.stderr


@pytest.mark.parametrize("wanted", ["", "a b", "x" * 65, "id\x1b[2J", "*", "name%", "a\nb"])
def test_what_is_no_id_is_refused(wanted: str) -> None:
    with pytest.raises(trace.BadQuery):
        trace.checked(wanted)


def test_the_command_refuses_what_is_no_id_before_reading_anything(
    redis_db: str, data_dir: Path
) -> None:
    done = _korpu(redis_db, data_dir, "--", "id\x1b[2J")
    assert done.returncode == 2 and done.stdout == ""
    assert "give a referral id, an event id or a correlation id" in done.stderr
    assert "\x1b" not in done.stderr  # not echoed


async def test_nothing_of_an_intake_entry_but_its_identifiers_leaves_in_a_trace(
    client: redis.Redis, redis_db: str, data_dir: Path
) -> None:
    intake = streams.intake(ORGANIZATION)
    _groups(client, (intake, streams.GROUP_REFERRAL_INTAKE))
    correlation = str(uuid.uuid4())
    # In clear (a retired version an agency may still send), sealed, and one parked.
    clear = _intake_entry(correlation, {"referral": {"person": {"family_name": NAME}}})
    sealed_data = bus.submission(ORGANIZATION, "key-2", _referral()).model_dump(mode="json")
    sealed = _intake_entry(correlation, sealed_data, version=2)
    for body in (clear, sealed):
        client.xadd(intake, {streams.ENTRY_FIELD: body})
    parked_id = str(client.xadd(intake, {streams.ENTRY_FIELD: _intake_entry(correlation, {})}))
    _read(client, intake, streams.GROUP_REFERRAL_INTAKE, ack=False)
    await _dead_letter(redis_db, intake, streams.GROUP_REFERRAL_INTAKE, parked_id, personal=True)

    found = trace.find(client, correlation)
    by_entry = trace.find(client, parked_id)
    shown = _korpu(redis_db, data_dir, correlation, "--json")

    assert [step.service for step in found.steps] == ["agency", "agency"]
    assert _kinds(found) == [["pending"], ["pending"]]
    # The parked entry left its stream with the dead letter: only its entry id finds it.
    [parked] = by_entry.steps
    assert (parked.entry_id, parked.event_id, parked.state[0].kind) == (
        parked_id,
        None,
        "dead_lettered",
    )
    document = json.dumps([found.to_dict(), by_entry.to_dict()]) + shown.stdout
    assert NAME not in document
    for value in ("key-2", "ref-2", sealed_data["sealed_referral"]["ciphertext"]):
        assert value not in document


def test_an_operator_signed_in_traces_and_an_outsider_is_refused(tmp_path: Path) -> None:
    with embedded_users(tmp_path) as bus_redis:
        operator = bus_redis.url(redis_acl.OPERATOR)
        allowed = _korpu(operator, tmp_path, str(uuid.uuid4()))
        outsider = f"redis://127.0.0.1:{bus_redis.port}/0"
        refused = _korpu(outsider, tmp_path, str(uuid.uuid4()))

    assert allowed.returncode == 1, allowed.stderr  # read everything, found nothing
    assert "nothing found" in allowed.stderr
    assert refused.returncode == 2
    assert "cannot reach Redis" in refused.stderr and refused.stdout == ""


def _published_into_outbox(
    url: str, stream: str, envelope: Envelope, *, sent: bool = False
) -> None:
    """The referral service's outbox as a handler leaves it, and as its relay marks a row."""
    metadata = sa.MetaData()
    outbox, inbox = tables.add_runtime_tables(metadata)
    engine = sa.create_engine(url)
    metadata.create_all(engine)
    with engine.begin() as conn:
        UnitOfWork(conn, outbox, inbox).publish(stream, envelope)
        if sent:
            conn.execute(outbox.update().values(published_at=datetime.now(UTC)))
    engine.dispose()


async def _dead_letter(
    redis_url: str, stream: str, group: str, entry_id: str, *, personal: bool = False
) -> None:
    """Give up on a pending entry with the runtime's own function, as its reader would."""
    reader = streams.reader_of(stream) or "shelter"
    subscription = Subscription(
        name="tests", stream=stream, group=group, handler=lambda *_: None, personal_data=personal
    )
    parked: list[str] = []

    async def park(token: str, _body: bytes) -> None:
        parked.append(token)  # kept in the service's database, never in Redis

    client = aioredis.from_url(redis_url)
    try:
        read: Any = await client.xrange(stream, entry_id, entry_id)
        entry = (entry_id, read[0][1])
        await redelivery.dead_letter(
            client, bus.signer(reader), subscription, entry, 5, "ConnectionError", park
        )
    finally:
        await client.aclose()


def _intake_entry(correlation: str, data: dict[str, Any], version: int = 1) -> str:
    return json.dumps(
        {
            "id": str(uuid.uuid4()),
            "type": "korpu.referral.submit",
            "dataschemaversion": version,
            "source": f"agency/{ORGANIZATION}",
            "time": "2026-12-07T10:00:00+00:00",
            "subject": "submission-2",
            "correlationid": correlation,
            "data": {"organization_id": ORGANIZATION, "idempotency_key": "key-2", **data},
        }
    )


def _referral() -> dict[str, Any]:
    return {
        "agency_reference": "ref-2",
        "person": {"given_name": "Aylin", "family_name": NAME, "birth_date": "1999-01-01"},
        "region": "Baku",
        "needs": ["shelter"],
    }
