"""Promises of the inbox, the outbox and redelivery that mutation testing found unguarded.

Each test kills mutants (scripts/mutation) that every other test let live: a backoff
that shrank, a dispatcher nobody called, a publish count that forgot earlier events,
a timestamp written in the machine's zone.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from pydantic import ValidationError

from korpu_contracts import referral, registry, streams
from korpu_contracts.envelope import Envelope
from korpu_runtime import consumer, parking, signing, tables
from korpu_runtime.database import Database
from korpu_runtime.redelivery import Policy
from korpu_runtime.unit_of_work import UnitOfWork

metadata = sa.MetaData()
outbox, inbox = tables.add_runtime_tables(metadata)
# These streams are written by no service (`producers=()`, like the intake): their
# entries carry no signature, so the verifier holds no key. Signatures: test_runtime_signing.
UNSIGNED = signing.Verifier(Path("/nonexistent"))


@pytest.fixture
def conn() -> Iterator[sa.Connection]:
    engine = sa.create_engine("sqlite://")
    metadata.create_all(engine)
    with engine.begin() as connection:
        yield connection
    engine.dispose()


def _cancelled(task_id: str) -> Envelope:
    payload = referral.TaskCancelled(task_id=task_id, referral_id="r-1", service="shelter")
    return Envelope.wrap(payload, source="tests", subject="r-1")


def _about_now(stored: datetime) -> bool:
    """SQLite gives the time back without its zone: what was written must have been UTC."""
    stored = stored if stored.tzinfo else stored.replace(tzinfo=UTC)
    return abs(datetime.now(UTC) - stored) < timedelta(minutes=1)


def test_retries_wait_twice_as_long_each_time_up_to_the_cap() -> None:
    policy = Policy(claim_idle_ms=1_000, backoff_cap_ms=60_000)

    waits = [policy.due_after_ms(deliveries) for deliveries in range(9)]

    assert waits == [1_000, 1_000, 2_000, 4_000, 8_000, 16_000, 32_000, 60_000, 60_000]


def test_a_stream_of_several_types_reaches_the_handler_of_each_type() -> None:
    seen: list[tuple[object, str]] = []
    dispatch = consumer.by_type(
        {"korpu.task.cancelled": lambda uow, envelope: seen.append((uow, envelope.id))}
    )
    envelope = _cancelled("t-1")
    uow = object()

    dispatch(uow, consumer.Message("s", "1-0", envelope))  # type: ignore[arg-type]

    assert seen == [(uow, envelope.id)]


def test_an_event_type_no_handler_knows_is_refused_by_name_not_dropped() -> None:
    dispatch = consumer.by_type({"korpu.task.updated": lambda uow, envelope: None})
    message = consumer.Message("s", "1-0", _cancelled("t-1"))

    with pytest.raises(registry.UnknownEventType, match=r"korpu\.task\.cancelled"):
        dispatch(object(), message)  # type: ignore[arg-type]


def test_a_unit_of_work_counts_every_event_it_wrote_to_the_outbox(conn: sa.Connection) -> None:
    uow = UnitOfWork(conn, outbox, inbox)
    first, second, third = (_cancelled(f"t-{n}") for n in range(3))

    uow.publish("korpu.a", first)
    uow.publish_all([("korpu.b", second), ("korpu.c", third)])
    uow.publish_all([])

    assert uow.published == 3
    rows = conn.execute(sa.select(outbox.c.event_id, outbox.c.stream).order_by(outbox.c.id))
    assert [tuple(row) for row in rows] == [
        (first.id, "korpu.a"),
        (second.id, "korpu.b"),
        (third.id, "korpu.c"),
    ]


def test_outbox_and_inbox_times_are_written_in_utc_whatever_the_local_zone(
    conn: sa.Connection, in_baku: None
) -> None:
    uow = UnitOfWork(conn, outbox, inbox)

    uow.publish("korpu.a", _cancelled("t-1"))
    assert uow.first_time("handler", "event-1")
    assert not uow.first_time("handler", "event-1")

    assert _about_now(conn.execute(sa.select(outbox.c.created_at)).scalar_one())
    assert _about_now(conn.execute(sa.select(inbox.c.processed_at)).scalar_one())


@pytest.fixture
def database(tmp_path: Path) -> Iterator[Database]:
    """A SQLite file through the runtime's own engine, whose savepoints work."""
    db = Database(f"sqlite:///{tmp_path / 'db.sqlite'}")
    db.create_schema(metadata)
    yield db
    db.close()


def _entry(entry_id: str, envelope: Envelope) -> consumer.Entry:
    return entry_id, {streams.ENTRY_FIELD.encode(): envelope.to_json().encode()}


def _never(*_args: object) -> None:
    raise AssertionError("not called")


def test_a_handler_is_told_its_stream_and_entry_and_a_failure_is_reported_by_entry(
    database: Database,
) -> None:
    seen: list[tuple[str, str, str]] = []

    def handle(_uow: UnitOfWork, message: consumer.Message) -> None:
        if message.envelope.data["task_id"] == "broken":
            raise ValueError("no such task")
        seen.append((message.stream, message.entry_id, message.envelope.id))

    subscription = consumer.Subscription(
        name="h", stream="korpu.s", group="g", handler=handle, producers=()
    )
    good, broken = _cancelled("good"), _cancelled("broken")

    outcome = database.transaction(
        lambda conn: consumer.process_batch(
            conn,
            subscription,
            [_entry("1-0", good), _entry("2-0", broken)],
            outbox,
            inbox,
            UNSIGNED,
        )
    )

    assert seen == [("korpu.s", "1-0", good.id)]
    assert (outcome.done, outcome.failed, list(outcome.errors)) == (["1-0"], ["2-0"], ["2-0"])


def test_an_entry_that_is_no_envelope_reaches_on_invalid_with_its_bytes_and_the_error(
    database: Database,
) -> None:
    invalid: list[tuple[str, bytes, type[Exception]]] = []
    subscription = consumer.Subscription(
        name="h", stream="korpu.s", group="g", handler=_never, producers=(),
        on_invalid=lambda _uow, entry, error: invalid.append(
            (entry.entry_id, entry.raw, type(error))
        ),
    )  # fmt: skip
    entries: list[consumer.Entry] = [
        ("1-0", {b"junk": b"no event field"}),
        ("2-0", {streams.ENTRY_FIELD.encode(): b"not json"}),
    ]

    outcome = database.transaction(
        lambda conn: consumer.process_batch(conn, subscription, entries, outbox, inbox, UNSIGNED)
    )

    assert invalid == [("1-0", b"", ValidationError), ("2-0", b"not json", ValidationError)]
    assert outcome.done == ["1-0", "2-0"]


class _Reversing:
    """A stand-in seal: useless as encryption, but opened only by this sealer and place."""

    def seal_bytes(self, plain: bytes, place: str) -> bytes:
        return place.encode() + b"|" + plain[::-1]

    def open_bytes(self, sealed: bytes, place: str) -> bytes:
        bound, _, body = sealed.partition(b"|")
        assert bound == place.encode(), "opened under another token"
        return body[::-1]


def test_a_sealed_parked_entry_is_opened_with_the_services_sealer_when_replayed(
    database: Database,
) -> None:
    sealer, envelope, token = _Reversing(), _cancelled("t-1"), "korpu.intake/1-0"
    database.transaction(
        lambda conn: parking.park(conn, token, envelope.to_json().encode(), sealer)
    )
    seen: list[str] = []
    subscription = consumer.Subscription(
        name="h", stream="korpu.intake", group="g", personal_data=True, producers=(),
        handler=lambda _uow, message: seen.append(message.envelope.id),
    )  # fmt: skip
    parked: list[consumer.Entry] = [("2-0", {streams.PARKED_FIELD.encode(): token.encode()})]

    outcome = database.transaction(
        lambda conn: consumer.process_batch(
            conn, subscription, parked, outbox, inbox, UNSIGNED, sealer
        )
    )

    assert (seen, outcome.done) == ([envelope.id], ["2-0"])


def test_an_event_handled_before_is_reported_as_a_duplicate_and_not_handled_again(
    database: Database,
) -> None:
    seen: list[str] = []
    subscription = consumer.Subscription(
        name="h", stream="korpu.s", group="g", producers=(),
        handler=lambda _uow, message: seen.append(message.entry_id),
    )  # fmt: skip
    envelope = _cancelled("t-1")

    def twice(entry_id: str) -> consumer.BatchOutcome:
        return database.transaction(
            lambda conn: consumer.process_batch(
                conn, subscription, [_entry(entry_id, envelope)], outbox, inbox, UNSIGNED
            )
        )

    first, again = twice("1-0"), twice("2-0")  # the same event in a second entry

    assert (first.done, first.duplicates) == (["1-0"], [])
    assert (again.done, again.duplicates) == (["2-0"], ["2-0"])
    assert seen == ["1-0"]
