"""Trace, capacity, recover and the overview's alarms, as a signed-in person sees them."""

from __future__ import annotations

import datetime as dt
import time
import uuid
from collections.abc import Iterator

import pytest
import redis
import sqlalchemy as sa

from korpu import catalog
from korpu_contracts import referral, streams, vocabulary
from korpu_contracts.envelope import Envelope, source_of
from support import bus
from support.console import ConsoleProcess, SignedIn

SHELTER = streams.requests(vocabulary.Service.SHELTER)


@pytest.fixture
def client(redis_db: str) -> Iterator[redis.Redis]:
    with redis.Redis.from_url(redis_db, decode_responses=True) as connection:
        yield connection


@pytest.fixture
def operator(console: ConsoleProcess) -> Iterator[SignedIn]:
    name = f"pages-op-{uuid.uuid4().hex[:6]}"
    signed = console.signed_in(name, console.account(name, "operator"))
    yield signed
    signed.http.close()


@pytest.fixture
def viewer(console: ConsoleProcess) -> Iterator[SignedIn]:
    name = f"pages-view-{uuid.uuid4().hex[:6]}"
    signed = console.signed_in(name, console.account(name, "viewer"))
    yield signed
    signed.http.close()


def _request(referral_id: str) -> Envelope:
    payload = referral.TaskRequested(
        task_id=str(uuid.uuid4()),
        referral_id=referral_id,
        service=vocabulary.Service.SHELTER,
        region="AZ-BA",
        is_child=False,
        sex="female",
    )
    return Envelope.wrap(payload, source=source_of("referral"), subject=referral_id)


def test_trace_shows_where_a_referral_is_stuck(client: redis.Redis, viewer: SignedIn) -> None:
    client.xgroup_create(SHELTER, "shelter", id="0", mkstream=True)
    referral_id = str(uuid.uuid4())
    request = _request(referral_id)
    client.xadd(SHELTER, bus.entry(SHELTER, request))  # type: ignore[arg-type]
    client.xreadgroup("shelter", "shelter-1", {SHELTER: ">"})  # read, never acknowledged
    page = viewer.http.get(f"/trace?id={referral_id}")
    assert page.status_code == 200
    assert request.id in page.text
    assert request.type in page.text
    assert SHELTER in page.text
    assert "pending in shelter" in page.text
    nothing = viewer.http.get(f"/trace?id={uuid.uuid4()}")
    assert "Nothing about" in nothing.text
    assert viewer.http.get("/trace?id=not%20an%20id%3B").status_code == 400


def test_the_overview_shows_a_group_with_no_reader_in_red(
    client: redis.Redis, viewer: SignedIn
) -> None:
    # An entry added two minutes ago that no reader of its group has taken since.
    two_minutes_ago = int(time.time() * 1000) - 120_000
    client.xadd(SHELTER, {"event": "{}"}, id=f"{two_minutes_ago}-0")
    client.xgroup_create(SHELTER, "shelter", id="0")
    page = viewer.http.get("/").text
    assert "What is wrong" in page
    assert "no reader" in page
    body = viewer.http.get("/overview", headers={"HX-Request": "true"})
    assert body.status_code == 200
    assert body.text.lstrip().startswith('<div id="overview"')


def test_capacity_names_a_provider_it_cannot_read_and_why(viewer: SignedIn) -> None:
    # The test console knows one address, where nothing listens.
    page = viewer.http.get("/capacity")
    assert page.status_code == 200
    assert "shelter: unreachable" in page.text or "shelter: no console key" in page.text


def test_recover_counts_first_and_sends_only_the_count_it_showed(
    console: ConsoleProcess, operator: SignedIn, viewer: SignedIn
) -> None:
    now = dt.datetime.now(dt.UTC)
    outbox = sa.table(
        "outbox",
        sa.column("event_id"),
        sa.column("stream"),
        sa.column("body"),
        sa.column("created_at", sa.DateTime(timezone=True)),
        sa.column("published_at", sa.DateTime(timezone=True)),
    )

    def published(conn: sa.Connection) -> None:
        for _ in range(3):
            conn.execute(
                outbox.insert(),
                {"event_id": str(uuid.uuid4()), "stream": SHELTER, "body": "{}",
                 "created_at": now, "published_at": now},
            )  # fmt: skip

    catalog.once("shelter", published)
    dry = operator.post("/recover", since="2m")
    assert dry.status_code == 200
    assert "Dry run" in dry.text
    total = int(dry.text.split("<strong>", 1)[1].split("<", 1)[0])
    assert total >= 3

    def unsent(conn: sa.Connection) -> int:
        query = (
            sa.select(sa.func.count()).select_from(outbox).where(outbox.c.published_at.is_(None))
        )
        return int(conn.execute(query).scalar_one())

    before = catalog.once("shelter", unsent)
    assert viewer.post("/recover", since="2m", expected=str(total)).status_code == 403
    assert catalog.once("shelter", unsent) == before
    done = operator.post("/recover", since="2m", expected=str(total))
    assert "are being sent again" in done.text
    assert catalog.once("shelter", unsent) >= before + 3
    assert operator.post("/recover", since="next week").status_code == 400
