"""Every metric a service shows on `/metrics`, named once (docs/metrics.md lists them).

Prometheus names, `korpu_` first. Labels are few and bounded: a stream under its
template (an organization's id never appears), a consumer group, an event type this
build knows (any other is `unknown`: a type is its sender's text), a route's template,
a status code, a region's code. Never an id, a name, or anything about a person.

Counters move as work happens; gauges about the bus, the outbox and a service's own
tables are read when Prometheus scrapes (`refresh`), so they cost nothing between
scrapes and are never stale. Rejected: a loop reading them every few seconds, which
works for nobody when no one scrapes. Each service has its own registry, so a test
can build two apps side by side.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import prometheus_client as prom
import redis.asyncio as aioredis
import sqlalchemy as sa
from sqlalchemy.engine import Connection
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from korpu_contracts import registry, streams
from korpu_runtime import logging as runtime_logging
from korpu_runtime.consumer import BatchOutcome, Entry, Subscription

log = runtime_logging.get(__name__)

UNKNOWN = "unknown"
# A request the edge answered before any route was matched (a rate limit, a body too
# large, a path no route has): one label value, never the path sent.
UNROUTED = "unrouted"
# At most this many streams are looked at per scrape (one per organization's intake):
# a scrape stays a few round trips whatever the number of agencies.
MOST_STREAMS = 500
# How long a scrape waits for Redis, then for the database (behind a long transaction):
# past it, that part is left out and the rest answers within Prometheus's timeout.
READ_SECONDS = 4.0
# Dead-lettered because: a signature refused, an entry no build reads, retries used up.
REFUSED, UNREADABLE, EXHAUSTED = "refused", "unreadable", "exhausted"

_HANDLER_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
_HTTP_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
_EVENT = ("stream", "type", "group")
_GROUP = ("stream", "group")
# A method is the client's text: any other is counted as `other`.
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})

# A reading of the service's own database when scraped (a provider's room, the referral
# service's unanswered tasks): it sets its gauges, in one transaction with the others.
Reading = Callable[[Connection, "Metrics"], None]


def stream_label(stream: str) -> str:
    """The stream as a label: a per-organization stream under its template."""
    return streams.template_of(stream)


def event_type(entry: Entry) -> str:
    """The entry's event type if this build knows it, else `unknown`."""
    raw = entry[1].get(streams.ENTRY_FIELD.encode(), b"")
    try:
        found = json.loads(raw).get("type")
    except (ValueError, AttributeError):
        return UNKNOWN
    return found if isinstance(found, str) and found in registry.TYPES else UNKNOWN


class Metrics:
    """One service's metrics, in its own registry."""

    def __init__(self) -> None:
        self.registry = prom.CollectorRegistry()
        counter, gauge = self._counter, self._gauge
        self.handled = counter("korpu_events_handled", "Entries handled and acknowledged.")
        self.duplicates = counter(
            "korpu_events_duplicate",
            "Entries acknowledged unhandled: the inbox found them handled already.",
        )
        self.failed = counter(
            "korpu_events_failed", "Handler failures that leave the entry pending for a retry."
        )
        self.retried = counter("korpu_events_retried", "Pending entries taken again for a retry.")
        self.dead_lettered = counter(
            "korpu_events_dead_lettered",
            "Entries moved to the dead letters, by why: refused, unreadable, exhausted.",
            (*_EVENT, "reason"),
        )
        self.handler_seconds = prom.Histogram(
            "korpu_handler_duration_seconds",
            "Time one entry spent in its handler, its inbox check included.",
            _EVENT,
            buckets=_HANDLER_BUCKETS,
            registry=self.registry,
        )
        self.published = counter(
            "korpu_relay_published", "Outbox rows the relay sent, by stream.", ("stream",)
        )
        self.http_requests = counter(
            "korpu_http_requests",
            "HTTP answers, by route template, method and status.",
            ("route", "method", "status"),
        )
        self.http_seconds = prom.Histogram(
            "korpu_http_request_duration_seconds",
            "Time from a request's arrival to its answer's end, by route template and method.",
            ("route", "method"),
            buckets=_HTTP_BUCKETS,
            registry=self.registry,
        )
        # Read when scraped.
        self.lag = gauge("korpu_consumer_group_lag", "Entries added and not yet read.")
        self.pending = gauge(
            "korpu_consumer_group_pending", "Entries read and not yet acknowledged."
        )
        self.pending_idle = gauge(
            "korpu_consumer_group_oldest_pending_idle_seconds",
            "Idle time of the oldest pending entry: since it was last delivered or renewed.",
        )
        self.pending_age = gauge(
            "korpu_consumer_group_oldest_pending_age_seconds",
            "Age of the oldest pending entry: since it was added to the stream.",
        )
        # This process's own reader, running or not. Rejected: counting the consumers
        # Redis saw lately (XINFO CONSUMERS), which Redis 7.0 does not refresh while a
        # reader waits on a quiet stream, and makes only at the first entry delivered.
        self.readers = gauge(
            "korpu_consumer_group_readers",
            "Readers of the group running in this process (0 or 1; replicas add up).",
        )
        self.outbox_backlog = gauge(
            "korpu_outbox_backlog", "Outbox rows committed and not yet sent.", ()
        )
        self.outbox_oldest = gauge(
            "korpu_outbox_oldest_unsent_age_seconds",
            "Age of the oldest outbox row not yet sent; 0 when none waits.",
            (),
        )
        self.free_places = gauge(
            "korpu_provider_free_places",
            "Places a provider could give now (beds, seats, cases), by region served.",
            ("region",),
        )
        self.waiting = gauge(
            "korpu_provider_waiting", "People on a provider's waitlist, by region.", ("region",)
        )
        self.unanswered = gauge(
            "korpu_tasks_unanswered",
            "Tasks sent to a provider that has not answered yet.",
            ("provider",),
        )
        self.unanswered_oldest = gauge(
            "korpu_tasks_oldest_unanswered_age_seconds",
            "Age of the oldest task a provider has not answered.",
            ("provider",),
        )
        # The national coordinator's Action needed queue (referral service): items
        # escalated as the sweep first finds them, and items open now, by kind.
        self.escalations = counter(
            "korpu_escalations",
            "Cases escalated to the national coordinator, once per item, by kind.",
            ("kind",),
        )
        self.action_needed = gauge(
            "korpu_action_needed",
            "Items in the national coordinator's Action needed queue now, by kind.",
            ("kind",),
        )
        self._read_on_scrape = [
            self.lag, self.pending, self.pending_idle, self.pending_age, self.readers,
            self.free_places, self.waiting, self.unanswered, self.unanswered_oldest,
            self.action_needed,
        ]  # fmt: skip
        self.readings: list[Reading] = []
        self._refreshing = asyncio.Lock()

    def _counter(self, name: str, text: str, labels: Sequence[str] = _EVENT) -> prom.Counter:
        return prom.Counter(name, text, labels, registry=self.registry)

    def _gauge(self, name: str, text: str, labels: Sequence[str] = _GROUP) -> prom.Gauge:
        return prom.Gauge(name, text, labels, registry=self.registry)

    # --- as work happens ---------------------------------------------------------

    def consumed(
        self, subscription: Subscription, entries: list[Entry], outcome: BatchOutcome
    ) -> None:
        """One batch's outcome: handled, duplicates, failures and each entry's time."""
        stream, group = stream_label(subscription.stream), subscription.group
        done, duplicates = set(outcome.done), set(outcome.duplicates)
        failed = set(outcome.failed)
        for entry in entries:
            entry_id, labels = entry[0], (stream, event_type(entry), group)
            if entry_id in duplicates:
                self.duplicates.labels(*labels).inc()
            elif entry_id in done:
                self.handled.labels(*labels).inc()
            elif entry_id in failed:
                self.failed.labels(*labels).inc()
            seconds = outcome.seconds.get(entry_id)
            if seconds is not None:
                self.handler_seconds.labels(*labels).observe(seconds)

    def retrying(self, subscription: Subscription, entry: Entry) -> None:
        self.retried.labels(*self._event(subscription, entry)).inc()

    def dead(self, subscription: Subscription, entry: Entry, reason: str) -> None:
        self.dead_lettered.labels(*self._event(subscription, entry), reason).inc()

    def sent(self, streams_sent: Iterable[str]) -> None:
        for stream in streams_sent:
            self.published.labels(stream_label(stream)).inc()

    @staticmethod
    def _event(subscription: Subscription, entry: Entry) -> tuple[str, str, str]:
        return stream_label(subscription.stream), event_type(entry), subscription.group

    # --- when scraped ------------------------------------------------------------

    async def refresh(
        self,
        redis: aioredis.Redis,
        reading: Mapping[Subscription, bool],
        run: Callable[[Callable[[Connection], None]], Any],
    ) -> None:
        """Read the gauges afresh: the bus for each subscription (with whether this
        process's reader of it runs), then the database through `run` (the service's
        `db.run`). A part that cannot be read in time (Redis or the database away, a long
        transaction) is left out of the answer, and the rest still answers."""
        async with self._refreshing:
            for gauge in self._read_on_scrape:
                gauge.clear()
            try:
                bus = self._read_bus(redis, dict(list(reading.items())[:MOST_STREAMS]))
                await asyncio.wait_for(bus, READ_SECONDS)
            except Exception:
                log.warning("metrics_bus_unread", exc_info=True)
            try:
                await asyncio.wait_for(run(self._read_database), READ_SECONDS)
            except Exception:
                log.warning("metrics_database_unread", exc_info=True)

    def _read_database(self, conn: Connection) -> None:
        for reading in self.readings:
            reading(conn, self)

    def outbox(self, outbox: sa.Table) -> Reading:
        """The reading of the outbox's backlog: rows not sent, and the oldest one's age."""
        c = outbox.c
        query = sa.select(sa.func.count(), sa.func.min(c.created_at)).where(
            c.published_at.is_(None)
        )

        def read(conn: Connection, metrics: Metrics) -> None:
            count, oldest = conn.execute(query).one()
            metrics.outbox_backlog.set(count)
            metrics.outbox_oldest.set(_age(oldest) if oldest is not None else 0)

        return read

    async def _read_bus(self, redis: aioredis.Redis, reading: Mapping[Subscription, bool]) -> None:
        # Two commands per stream, all in one round trip. Rejected: XINFO STREAM FULL,
        # which lists every pending entry.
        pipe = redis.pipeline(transaction=False)
        for sub in reading:
            pipe.xinfo_groups(sub.stream)
            pipe.xpending_range(sub.stream, sub.group, min="-", max="+", count=1)
        answers = await pipe.execute(raise_on_error=False)
        found: dict[tuple[str, str], _Group] = {}
        for index, (sub, running) in enumerate(reading.items()):
            groups, oldest = answers[2 * index : 2 * index + 2]
            seen = found.setdefault((stream_label(sub.stream), sub.group), _Group())
            seen.add(sub.group, groups, oldest, running)
        for (stream, group), seen in found.items():
            self.lag.labels(stream, group).set(seen.lag)
            self.pending.labels(stream, group).set(seen.pending)
            self.pending_idle.labels(stream, group).set(seen.idle)
            self.pending_age.labels(stream, group).set(seen.age)
            self.readers.labels(stream, group).set(seen.readers or 0)

    def render(self) -> bytes:
        return bytes(prom.generate_latest(self.registry))


class _Group:
    """One group over the streams of one template: counts added, oldest the largest.

    A stream or group not made yet (an error from XINFO) counts as empty.
    """

    def __init__(self) -> None:
        self.lag = self.pending = 0
        self.idle = self.age = 0.0
        self.readers: int | None = None

    def add(self, group: str, groups: Any, oldest: Any, running: bool) -> None:
        if isinstance(groups, list):
            mine = next((g for g in groups if _text(g.get("name")) == group), None)
            if mine is not None:
                # Redis 7 gives the lag; None when it cannot tell (entries deleted): the
                # pending count is the better guide then.
                self.lag += int(mine.get("lag") or 0)
                self.pending += int(mine.get("pending") or 0)
        # Of the streams of one template, one not read means the template is not read.
        self.readers = int(running) if self.readers is None else min(self.readers, int(running))
        if isinstance(oldest, list) and oldest:
            item = oldest[0]
            self.idle = max(self.idle, int(item["time_since_delivered"]) / 1000)
            added_ms = int(_text(item["message_id"]).split("-")[0])
            self.age = max(self.age, max(0.0, time.time() - added_ms / 1000))


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _age(at: datetime) -> float:
    # SQLite hands back a naive datetime (stored as UTC); PostgreSQL an aware one.
    stamp = at.timestamp() if at.tzinfo is not None else at.replace(tzinfo=UTC).timestamp()
    return max(0.0, time.time() - stamp)


def counts(gauge: prom.Gauge, by_label: Mapping[str, float]) -> None:
    """Set one series of `gauge` per label value (a region, a provider)."""
    for value, count in by_label.items():
        gauge.labels(value).set(count)


class HttpMetrics:
    """Counts and times every HTTP answer under its route's template, never the path sent.

    Outermost, so the edge's own refusals (a rate limit, a body too large) are counted
    too, as `unrouted`. The route is known only once the router matched it: read after.
    """

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app, self.metrics = app, metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started, status = time.perf_counter(), 500

        async def watched(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, watched)
        finally:
            route = getattr(scope.get("route"), "path", None) or UNROUTED
            method = scope["method"] if scope["method"] in _METHODS else "other"
            self.metrics.http_requests.labels(route, method, str(status)).inc()
            self.metrics.http_seconds.labels(route, method).observe(time.perf_counter() - started)
