"""A running service: database, broker subscriptions, outbox relay, and its lifecycle."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterator, Sequence
from datetime import timedelta
from typing import Any, TypeVar

import redis.asyncio as aioredis
import sqlalchemy as sa
from faststream import AckPolicy
from faststream.redis import RedisBroker, StreamSub
from faststream.redis.annotations import RedisBatchStreamMessage
from sqlalchemy.engine import Connection

from korpu_runtime import (
    background,
    consumer,
    healing,
    metrics,
    parking,
    private,
    redelivery,
    signing,
)
from korpu_runtime import logging as runtime_logging
from korpu_runtime.database import Database
from korpu_runtime.relay import Relay
from korpu_runtime.retention import Retention
from korpu_runtime.settings import ServiceSettings
from korpu_runtime.unit_of_work import UnitOfWork

log = runtime_logging.get(__name__)
T = TypeVar("T")


async def _raw_entries(msg: Any, _original: Any) -> Any:
    # Our entries are plain JSON under one field; FastStream's own decoding
    # expects its framing, so the handler reads the raw entries instead.
    return msg.raw_message["data"]


STOP_STEP_SECONDS = 20.0


async def _bounded(step: Awaitable[None], seconds: float, what: str) -> None:
    try:
        await asyncio.wait_for(step, seconds)
    except TimeoutError:
        log.error("stop_step_timed_out", step=what, seconds=seconds)


class Service:
    """Everything a service process runs besides its HTTP routes."""

    def __init__(
        self,
        settings: ServiceSettings,
        metadata: sa.MetaData,
        subscriptions: Sequence[consumer.Subscription],
    ) -> None:
        # First, before the database file or anything else is made: owner-only files
        # however the process was started (`korpu serve`, a supervisor, an embedding).
        tightened = private.protect(settings.data_dir)
        if tightened:
            log.warning("data_dir_tightened", paths=tightened, to="owner only")
        self.settings = settings
        self.metadata = metadata
        self.outbox = metadata.tables["outbox"]
        self.inbox = metadata.tables["inbox"]
        self.subscriptions = list(subscriptions)
        self.db = Database(settings.database_url, secure_delete=settings.sqlite_secure_delete)
        self.redis: aioredis.Redis = aioredis.from_url(settings.redis_url)
        # Outside production a service makes its own first key; in production the
        # operator makes every key (`korpu keys signing generate`) before the start.
        self.signer = signing.Signer(
            settings.keys_dir, settings.service, create=settings.env != "production"
        )
        self.verifier = signing.Verifier(settings.keys_dir)
        # What /metrics shows (`metrics`): a service adds its own readings (a provider's room).
        self.metrics = metrics.Metrics()
        self.metrics.readings.append(self.metrics.outbox(self.outbox))
        # Entries refused since the start (`signing`): never handled, dead-lettered at once.
        self.refused_total = 0
        self.relay = Relay(
            self.db,
            self.redis,
            self.outbox,
            settings.relay_poll_seconds,
            owner=settings.consumer_name,
            signer=self.signer,
            claim_seconds=settings.relay_claim_seconds,
            metrics=self.metrics,
        )
        self.retention = Retention(
            self.db,
            self.redis,
            self.outbox,
            self._streams_looked_after,
            interval_seconds=settings.trim_interval_seconds,
            stream_retention=timedelta(hours=settings.stream_retention_hours),
            outbox_retention=timedelta(hours=settings.outbox_retention_hours),
        )
        self.policy = redelivery.Policy(
            claim_idle_ms=settings.claim_idle_ms,
            max_deliveries=settings.max_deliveries,
            backoff_cap_ms=settings.backoff_cap_ms,
        )
        self.redeliveries = [self._redelivery(subscription) for subscription in self.subscriptions]
        self.broker = RedisBroker(
            settings.redis_url,
            # FastStream's per-message access log costs about a fifth of throughput
            # (docs/faststream-on-redis.md); it goes to a logger that only lets warnings through.
            logger=logging.getLogger("korpu.faststream"),
            log_level=logging.DEBUG,
            graceful_timeout=15.0,
        )
        logging.getLogger("korpu.faststream").setLevel(logging.WARNING)
        for subscription in self.subscriptions:
            self._subscribe(subscription)
        self.healer = healing.Healer(
            self.redis, self.subscriptions, self.broker, settings.heal_interval_seconds
        )
        # A service's own periodic work (the referral service's retention sweep),
        # started and stopped with the rest and shown in readiness by loop name.
        self.parts: list[background.Periodic] = []
        # Seals entries parked in the database (`parking`): set by a service that
        # holds personal data, which alone knows its keys; None parks them as sent.
        self.sealer: parking.Sealer | None = None
        self.started = False

    def _redelivery(self, subscription: consumer.Subscription) -> redelivery.Redelivery:
        return redelivery.Redelivery(
            self.redis,
            subscription,
            self.settings.consumer_name,
            self.policy,
            self.consume,
            self._park,
            self.signer,
            self.metrics,
        )

    async def subscribe(self, subscription: consumer.Subscription) -> bool:
        """Read one more stream from now on, while running; False if read already.

        For streams that appear while a service runs: one organization's intake,
        once it has a bus key. Its group is made first (at `0`, as at a start), then
        its reader and its redelivery start if the service has started; the healer
        and the stop see it as any other."""
        if any(known.stream == subscription.stream for known in self.subscriptions):
            return False
        await healing.provision_groups(self.redis, [subscription])
        self.subscriptions.append(subscription)
        subscriber = self._subscribe(subscription)
        task = self._redelivery(subscription)
        self.redeliveries.append(task)
        if self.broker.running:
            await subscriber.start()
            task.start()
        log.info("stream_subscribed", stream=subscription.stream, group=subscription.group)
        return True

    def _streams_looked_after(self) -> Iterator[str]:
        """A service trims the streams it reads and the streams it has written to."""
        yield from (subscription.stream for subscription in self.subscriptions)
        yield from self.relay.streams_written

    def _subscribe(self, subscription: consumer.Subscription) -> Any:
        stream = StreamSub(
            subscription.stream,
            group=subscription.group,
            consumer=self.settings.consumer_name,
            batch=True,
            max_records=self.settings.max_records,
        )

        # Manual ack: only entries whose effects committed are acknowledged; a
        # failed one stays pending. Rejected: FastStream's ack-on-success, which
        # would acknowledge a whole batch or none of it.
        subscriber = self.broker.subscriber(
            stream=stream, ack_policy=AckPolicy.MANUAL, decoder=_raw_entries, no_reply=True
        )

        @subscriber
        async def handle(body: Any, msg: RedisBatchStreamMessage) -> None:
            ids = [entry_id.decode() for entry_id in msg.raw_message["message_ids"]]
            await self.consume(subscription, list(zip(ids, body, strict=True)))

        return subscriber

    async def consume(
        self, subscription: consumer.Subscription, entries: list[consumer.Entry]
    ) -> consumer.BatchOutcome:
        ids = [entry_id for entry_id, _ in entries]
        async with redelivery.lease(
            self.redis, subscription, self.settings.consumer_name, ids, self.policy
        ):
            outcome = await self.db.run(
                lambda conn: consumer.process_batch(
                    conn,
                    subscription,
                    entries,
                    self.outbox,
                    self.inbox,
                    self.verifier,
                    self.sealer,
                )
            )
        self.metrics.consumed(subscription, entries, outcome)
        await self._dead_letter_at_once(subscription, entries, outcome)
        if outcome.published:
            self.relay.wake()
        errors_key = redelivery.errors_key(subscription)
        pipe = self.redis.pipeline(transaction=False)
        if outcome.done:
            pipe.xack(subscription.stream, subscription.group, *outcome.done)
            if subscription.personal_data:
                pipe.xdel(subscription.stream, *outcome.done)
            pipe.hdel(errors_key, *outcome.done)
        if outcome.errors:
            # Kept for the dead letter; the entry stays pending and is retried later.
            pipe.hset(errors_key, mapping=dict[Any, Any](outcome.errors))
        await pipe.execute()
        return outcome

    async def _dead_letter_at_once(
        self,
        subscription: consumer.Subscription,
        entries: list[consumer.Entry],
        outcome: consumer.BatchOutcome,
    ) -> None:
        # At once: no retry can make a forged entry genuine, nor an unreadable one read.
        self.refused_total += len(outcome.refused)
        reasons = {
            **{entry_id: metrics.REFUSED for entry_id in outcome.refused},
            **{entry_id: metrics.UNREADABLE for entry_id in outcome.unreadable},
        }
        set_aside = {**outcome.refused, **outcome.unreadable}
        for entry in entries:
            why = set_aside.get(entry[0])
            if why is not None:
                await redelivery.dead_letter(
                    self.redis, self.signer, subscription, entry, 1, why, self._park
                )
                self.metrics.dead(subscription, entry, reasons[entry[0]])

    async def _park(self, token: str, body: bytes) -> None:
        await self.db.run(lambda conn: parking.park(conn, token, body, self.sealer))

    async def transaction(self, work: Callable[[UnitOfWork], T]) -> T:
        """Run `work` in a transaction (shared with others queued meanwhile, each in its
        own savepoint); events it publishes leave after commit."""
        published = 0

        def run(conn: Connection) -> T:
            nonlocal published
            uow = UnitOfWork(conn, self.outbox, self.inbox)
            result = work(uow)
            published = uow.published
            return result

        result = await self.db.run_grouped(run)
        if published:
            self.relay.wake()
        return result

    async def provision_groups(self) -> None:
        await healing.provision_groups(self.redis, self.subscriptions)

    async def start(self) -> None:
        # Every replica migrates at start, one at a time (korpu_runtime.migrations): a
        # second one waits, finds the schema current and goes on. Rejected: refusing to
        # start on an old schema until `korpu migrate` ran, one more step to forget.
        migrated = await asyncio.to_thread(self.db.create_schema, self.metadata)
        if migrated is not None and migrated.changed:
            log.info(
                "schema_migrated",
                before=migrated.before,
                after=migrated.after,
                made_before_migrations=migrated.adopted,
            )
        await self.provision_groups()
        await self.broker.start()
        self.relay.start()
        for task in self.redeliveries:
            task.start()
        self.healer.start()
        self.retention.start()
        for part in self.parts:
            part.start()
        self.started = True
        log.info("service_started", consumer=self.settings.consumer_name)

    async def stop(self) -> None:
        # Stop reading first and let in-flight batches finish, then send what they committed.
        # Each step is bounded: a stop that never ends would keep a supervisor (or a
        # test run) waiting for good, and whatever was not finished stays pending
        # for another consumer. Rejected: waiting without limit for a clean stop.
        # The healer goes first, or it would restart the readers being stopped.
        await self.healer.stop()
        for part in self.parts:
            await part.stop()
        await self.retention.stop()
        await _bounded(self.broker.stop(), STOP_STEP_SECONDS, "broker")
        await _bounded(self._finish_what_was_read(), STOP_STEP_SECONDS, "unseen reads")
        for task in self.redeliveries:
            await _bounded(task.stop(), STOP_STEP_SECONDS, "redelivery")
        await _bounded(self.relay.stop(), STOP_STEP_SECONDS, "relay")
        await self.redis.aclose()
        self.db.close()
        self.started = False
        log.info("service_stopped")

    async def _finish_what_was_read(self) -> None:
        # Stopping cancels each reader, and a read Redis answered at that moment leaves
        # its entries pending here, unseen: handled now, not after `claim_idle_ms` by
        # whoever claims them. Rejected: letting the redelivery take them, which holds
        # a referral back for seconds at every rolling restart.
        # With Redis or the database away, they stay pending for redelivery, as before:
        # a stop never fails for it.
        for subscription in self.subscriptions:
            try:
                entries = await redelivery.read_but_never_tried(
                    self.redis, subscription, self.settings.consumer_name
                )
                if entries:
                    await self.consume(subscription, entries)
            except Exception:
                log.warning("unseen_reads_left_pending", stream=subscription.stream, exc_info=True)

    async def read_metrics(self) -> bytes:
        """/metrics's text: the counters, and the gauges read now from Redis and the database."""
        alive = {
            subscriber.stream_sub.name: healing.reader_alive(subscriber)  # type: ignore[attr-defined]
            for subscriber in self.broker.subscribers
        }
        reading = {sub: alive.get(sub.stream, False) for sub in self.subscriptions}
        await self.metrics.refresh(self.redis, reading, self.db.run)
        return self.metrics.render()

    @staticmethod
    def bus_checks(checks: dict[str, bool]) -> set[str]:
        """The checks about Redis: failing, they leave the service degraded, not down."""
        return {name for name in checks if name == "redis" or name.startswith("subscriber:")}

    async def readiness(self) -> dict[str, bool]:
        checks = {"started": self.started, "relay": self.relay.running}
        checks["redelivery"] = all(task.running for task in self.redeliveries)
        checks["healer"] = self.healer.running
        checks["retention"] = self.retention.running
        for part in self.parts:
            checks[part.loop.name] = part.running
        try:
            checks["redis"] = bool(await self.broker.ping(timeout=2))
        except Exception:
            checks["redis"] = False
        for subscriber in self.broker.subscribers:
            alive = healing.reader_alive(subscriber)
            checks[f"subscriber:{subscriber.stream_sub.name}"] = alive  # type: ignore[attr-defined]
        try:
            await self.db.run(lambda conn: conn.exec_driver_sql("SELECT 1"))
            checks["database"] = True
        except Exception:
            checks["database"] = False
        return checks
