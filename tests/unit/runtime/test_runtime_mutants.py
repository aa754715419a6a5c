"""Promises of the inbox, the outbox and redelivery that mutation testing found unguarded.

Each test kills mutants (scripts/mutation) that every other test let live: a backoff
that shrank, a dispatcher nobody called, a publish count that forgot earlier events,
a timestamp written in the machine's zone.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from korpu_contracts import referral, registry
from korpu_contracts.envelope import Envelope
from korpu_runtime import consumer, tables
from korpu_runtime.redelivery import Policy
from korpu_runtime.unit_of_work import UnitOfWork

metadata = sa.MetaData()
outbox, inbox = tables.add_runtime_tables(metadata)


@pytest.fixture
def in_baku(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The process's local zone is UTC+4, as on a server set to the agencies' own time."""
    monkeypatch.setenv("TZ", "Asia/Baku")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


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
