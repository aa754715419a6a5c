"""/metrics on a running service (real Redis and database): counts that move with the
entries handled, failed and dead-lettered, the groups' lag and pending, the outbox's
backlog, HTTP answers by route template, and nobody but the scrape token's holder."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from fastapi import APIRouter

from korpu_contracts import referral, registry, streams
from korpu_runtime import http, metrics, scrape, tables
from korpu_runtime.consumer import Message, Subscription
from korpu_runtime.service import Service
from korpu_runtime.settings import ServiceSettings
from korpu_runtime.unit_of_work import UnitOfWork
from support import bus
from support.infra import wait_for
from support.metrics import metric as value

STREAM = streams.SHELTER_REQUESTS
GROUP = "test-metrics"
CANCELLED = referral.TaskCancelled.TYPE
metadata = sa.MetaData()
outbox, _inbox = tables.add_runtime_tables(metadata)
may_finish = threading.Event()
entered = threading.Event()


def _handle(uow: UnitOfWork, message: Message) -> None:
    task_id = registry.read(message.envelope, referral.TaskCancelled).task_id
    if task_id.startswith("poison"):
        raise ConnectionError("the database went away")
    if task_id.startswith("slow"):
        entered.set()
        if not may_finish.wait(timeout=30):
            raise RuntimeError("the test never let the slow handler finish")


class _Settings(ServiceSettings):
    service: str = "shelter"


def _things() -> APIRouter:
    api = APIRouter()

    @api.get("/v1/things/{thing_id}")
    async def thing(thing_id: str) -> dict[str, str]:
        return {"seen": "yes"}

    return api


@pytest.fixture
async def running(
    redis_db: str, database_url: str, tmp_path: Path
) -> AsyncIterator[tuple[Service, httpx.AsyncClient]]:
    may_finish.clear()
    entered.clear()
    settings = _Settings(
        redis_url=redis_db,
        database_url=database_url,
        metrics_token_file=tmp_path / "metrics-scrape-token",
        consumer_name="metrics-1",
        # The tests scrape in a loop while they wait: the limit has its own tests.
        rate_limit_per_minute=1_000_000,
        rate_limit_burst=1_000_000,
        claim_idle_ms=100,
        max_deliveries=2,
        backoff_cap_ms=200,
    )
    subscription = Subscription(name="test.metrics", stream=STREAM, group=GROUP, handler=_handle)
    service = Service(settings, metadata, [subscription])
    app = http.build_app(service, [_things()], title="metrics test")
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://svc") as client:
            yield service, client
            may_finish.set()


async def _scrape(service: Service, client: httpx.AsyncClient) -> str:
    token = scrape.token(service.settings.metrics_token_file)
    answer = await client.get("/metrics", headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 200, answer.text
    return answer.text


async def _publish(service: Service, task_id: str) -> None:
    cancelled = referral.TaskCancelled(task_id=task_id, referral_id="r-1", service="shelter")
    await bus.publish(service.settings.redis_url, STREAM, cancelled, "r-1")


async def test_counts_move_with_entries_handled_failed_retried_and_dead_lettered(
    running: tuple[Service, httpx.AsyncClient],
) -> None:
    service, client = running
    for task_id in ("fine-1", "fine-2", "poison-1"):
        await _publish(service, task_id)
    unreadable = bus.entry(STREAM, b"not json at all")
    await service.redis.xadd(STREAM, unreadable)  # type: ignore[arg-type]
    ours = {"stream": STREAM, "group": GROUP}

    async def both_dead_lettered() -> bool:
        text = await _scrape(service, client)
        exhausted = value(text, "korpu_events_dead_lettered_total", reason="exhausted", **ours)
        unread = value(text, "korpu_events_dead_lettered_total", reason="unreadable", **ours)
        return exhausted == 1 and unread == 1

    await wait_for(both_dead_lettered, timeout=15, message="never dead-lettered both")
    text = await _scrape(service, client)
    assert value(text, "korpu_events_handled_total", type=CANCELLED, **ours) == 2
    assert value(text, "korpu_events_failed_total", type=CANCELLED, **ours) == 2
    assert value(text, "korpu_events_retried_total", type=CANCELLED, **ours) == 1
    exhausted = value(text, "korpu_events_dead_lettered_total", reason="exhausted", **ours)
    assert exhausted == 1
    assert value(text, "korpu_events_dead_lettered_total", type="unknown", **ours) == 1
    # Every try of every entry was timed: two handled, two of the poison, one unreadable.
    assert value(text, "korpu_handler_duration_seconds_count", type=CANCELLED, **ours) == 4
    assert value(text, "korpu_consumer_group_pending", **ours) == 0


async def test_lag_pending_and_the_oldest_pending_entry_per_group(
    running: tuple[Service, httpx.AsyncClient], monkeypatch: pytest.MonkeyPatch
) -> None:
    service, client = running
    # The slow handler holds the database: the scrape answers without the outbox at once.
    monkeypatch.setattr(metrics, "READ_SECONDS", 0.2)
    await _publish(service, "slow-1")
    assert await asyncio.to_thread(entered.wait, 10), "the slow entry was never read"
    # Read by nobody while the one reader waits on its handler.
    for task_id in ("later-1", "later-2"):
        await _publish(service, task_id)
    await asyncio.sleep(0.3)
    text = await _scrape(service, client)
    ours = {"stream": STREAM, "group": GROUP}
    assert value(text, "korpu_consumer_group_lag", **ours) == 2
    assert value(text, "korpu_consumer_group_pending", **ours) == 1
    assert value(text, "korpu_consumer_group_readers", **ours) == 1
    age = value(text, "korpu_consumer_group_oldest_pending_age_seconds", **ours)
    assert age is not None and age >= 0.3
    idle = value(text, "korpu_consumer_group_oldest_pending_idle_seconds", **ours)
    assert idle is not None and 0 <= idle < 60
    may_finish.set()

    async def caught_up() -> bool:
        text = await _scrape(service, client)
        lag = value(text, "korpu_consumer_group_lag", **ours)
        return lag == 0 and value(text, "korpu_consumer_group_pending", **ours) == 0

    await wait_for(caught_up, timeout=10, message="lag and pending never went back to 0")


async def test_the_outbox_backlog_and_its_oldest_row(
    running: tuple[Service, httpx.AsyncClient],
) -> None:
    service, client = running
    await service.relay.stop()  # so the rows stay unsent
    an_hour_ago = datetime.now(UTC) - timedelta(hours=1)
    rows = [
        {"event_id": f"e-{n}", "stream": STREAM, "body": "{}", "created_at": an_hour_ago}
        for n in range(3)
    ]
    await service.db.run(lambda conn: conn.execute(outbox.insert(), rows))
    text = await _scrape(service, client)
    assert value(text, "korpu_outbox_backlog") == 3
    oldest = value(text, "korpu_outbox_oldest_unsent_age_seconds")
    assert oldest is not None and 3500 < oldest < 3700


async def test_http_answers_are_counted_by_route_template_never_the_path_sent(
    running: tuple[Service, httpx.AsyncClient],
) -> None:
    service, client = running
    assert (await client.get("/v1/things/a-referral-id-7f3a")).status_code == 200
    assert (await client.get("/v1/nowhere/another-id-9c2b")).status_code == 404
    text = await _scrape(service, client)
    route = "/v1/things/{thing_id}"
    assert value(text, "korpu_http_requests_total", route=route, method="GET", status="200") == 1
    assert value(text, "korpu_http_requests_total", route="unrouted", status="404") == 1
    assert value(text, "korpu_http_request_duration_seconds_count", route=route) == 1
    assert "a-referral-id-7f3a" not in text and "another-id-9c2b" not in text


async def test_an_outsider_is_refused_as_a_problem(
    running: tuple[Service, httpx.AsyncClient],
) -> None:
    _service, client = running
    for headers in ({}, {"Authorization": "Bearer not-the-token"}, {"Authorization": "Basic x"}):
        answer = await client.get("/metrics", headers=headers)
        assert answer.status_code == 401
        assert answer.headers["content-type"] == http.PROBLEM_JSON
        assert answer.headers["www-authenticate"] == "Bearer"
        assert "korpu_" not in answer.text


async def test_the_scrape_token_is_made_once_for_its_owner_alone(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "metrics-scrape-token"
    assert scrape.make(path) is True
    first = scrape.token(path)
    assert scrape.make(path) is False
    assert scrape.token(path) == first and first is not None and len(first) >= 32
    assert path.stat().st_mode & 0o777 == 0o600
    assert path.parent.stat().st_mode & 0o777 == 0o700


async def test_a_group_whose_reader_stopped_shows_no_reader(
    running: tuple[Service, httpx.AsyncClient],
) -> None:
    service, client = running
    ours = {"stream": STREAM, "group": GROUP}
    assert value(await _scrape(service, client), "korpu_consumer_group_readers", **ours) == 1
    await service.healer.stop()  # or it would start the reader again within a second
    (subscriber,) = service.broker.subscribers
    await subscriber.stop()
    assert value(await _scrape(service, client), "korpu_consumer_group_readers", **ours) == 0
