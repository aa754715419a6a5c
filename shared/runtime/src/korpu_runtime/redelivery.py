"""Entries left pending: reclaimed, retried with backoff, and dead-lettered after the limit.

FastStream never redelivers a pending entry (docs/faststream-on-redis.md): an entry whose handler
failed, or whose consumer died, would wait forever. Every service runs one
`Redelivery` per subscription; any replica may take over any entry.

Entries are found with XPENDING (an IDLE filter, and each entry's delivery
count) and taken with XCLAIM at a minimum idle time, so only one replica wins
each. Rejected: XAUTOCLAIM, which takes every idle entry alike; each entry's
own backoff (its idle time against its delivery count) and its dead-letter
decision must come before it is taken, and XAUTOCLAIM would count a delivery
for an entry that is only being moved to the dead letters.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import redis.asyncio as aioredis

from korpu_contracts import streams
from korpu_runtime import background, metrics, parking, signing
from korpu_runtime import logging as runtime_logging
from korpu_runtime.consumer import BatchOutcome, Entry, Subscription
from korpu_runtime.metrics import Metrics

log = runtime_logging.get(__name__)
SCAN = 100
RENEWAL_STOP_SECONDS = 2.0


@dataclass(frozen=True)
class Policy:
    # An entry nobody has touched for this long is free to take. Handlers in
    # progress extend their lease well within it, so a slow handler is never
    # taken from under itself. Rejected: one fixed idle time above the slowest
    # handler, which would make every retry wait that long.
    claim_idle_ms: int = 5_000
    max_deliveries: int = 5
    backoff_cap_ms: int = 60_000
    # A consumer silent this long with nothing pending is gone: removed from the group.
    forget_consumer_ms: int = 3_600_000

    def due_after_ms(self, deliveries: int) -> int:
        """Idle time before the next attempt: doubling from `claim_idle_ms`, capped."""
        return int(min(self.claim_idle_ms * 2 ** max(0, deliveries - 1), self.backoff_cap_ms))


def errors_key(subscription: Subscription) -> str:
    """Redis hash of the last error per pending entry, so a dead letter can say why."""
    return f"korpu.errors:{subscription.stream}:{subscription.group}"


@contextlib.asynccontextmanager
async def lease(
    redis: aioredis.Redis, subscription: Subscription, consumer: str, ids: list[Any], policy: Policy
) -> AsyncIterator[None]:
    """Keep `ids` ours while a handler works on them, by resetting their idle time."""

    finished = asyncio.Event()

    async def renew() -> None:
        while not finished.is_set():
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(policy.claim_idle_ms / 3000):
                    await finished.wait()
            if finished.is_set():
                return
            # JUSTID: resets the idle time without counting a delivery.
            await redis.xclaim(
                subscription.stream, subscription.group, consumer, 0, ids, justid=True
            )

    renewing = asyncio.create_task(renew())
    try:
        yield
    finally:
        # The renewal ends on `finished`, not on cancellation alone: a cancellation
        # that lands inside a Redis command can be absorbed on the way, and the loop
        # then slept on for ever, holding the handler and a stopping service (seen:
        # the broker's graceful stop waiting its full bound). The wait is bounded
        # too: a renewal stuck on a dead connection must not hold the handler.
        # asyncio.wait, not `await renewing` under suppress(CancelledError): that
        # would also swallow a cancellation of the caller.
        finished.set()
        renewing.cancel()
        await asyncio.wait([renewing], timeout=RENEWAL_STOP_SECONDS)
        failed = renewing.done() and not renewing.cancelled() and renewing.exception()
        if failed:
            log.warning("lease_renewal_failed", stream=subscription.stream)


Consume = Callable[[Subscription, list[Entry]], Awaitable[BatchOutcome]]
# Keeps an entry's body in the service's database under a token (korpu_runtime.parking).
Park = Callable[[str, bytes], Awaitable[None]]


async def read_but_never_tried(
    redis: aioredis.Redis, subscription: Subscription, consumer: str
) -> list[Entry]:
    """Entries delivered once to `consumer` that no handler has tried.

    A read that Redis answered just as the reader was cancelled (a stop) leaves its
    entries pending under this consumer, unseen. One whose handler failed is not
    among them: its error is recorded, and it keeps its backoff.
    """
    sub = subscription
    pending: list[dict[str, Any]] = await redis.xpending_range(
        sub.stream, sub.group, min="-", max="+", count=SCAN, consumername=consumer
    )
    tried = set(await redis.hkeys(errors_key(sub)))
    entries: list[Entry] = []
    for item in pending:
        entry_id = item["message_id"]
        if int(item["times_delivered"]) != 1 or entry_id in tried:
            continue
        found: Any = await redis.xrange(sub.stream, entry_id, entry_id)
        if found:  # not deleted meanwhile
            entries.append((entry_id.decode(), found[0][1]))
    return entries


async def dead_letter(
    redis: aioredis.Redis,
    signer: signing.Signer,
    sub: Subscription,
    entry: Entry,
    deliveries: int,
    error: str,
    park: Park,
) -> None:
    """Move one pending entry of `sub` to its reader's dead letters, signed."""
    entry_id, fields = entry
    letter: dict[str, bytes | str] = {
        "origin_stream": sub.stream,
        "origin_id": entry_id,
        "group": sub.group,
        "handler": sub.name,
        "error": error,
        "deliveries": str(deliveries),
        "dead_at": datetime.now(UTC).isoformat(),
        streams.ENTRY_FIELD: fields.get(streams.ENTRY_FIELD.encode(), b""),
        streams.EVENT_SIGNATURE_FIELD: fields.get(streams.SIGNATURE_FIELD.encode(), b""),
    }
    if sub.personal_data:
        # The person stays in this service: the letter carries a token, not the entry.
        token: bytes | None = fields.get(streams.PARKED_FIELD.encode())
        if token is None:
            token = parking.token_for(sub.stream, entry_id).encode()
            await park(token.decode(), _text(letter[streams.ENTRY_FIELD]))
        letter[streams.ENTRY_FIELD] = b""
        letter[streams.PARKED_FIELD] = token
    replay_of: bytes | None = fields.get(streams.REPLAY_FIELD.encode())
    if replay_of is not None:
        letter[streams.REPLAY_FIELD] = replay_of.decode()
    # One MULTI: never acknowledged without being kept, never kept twice.
    pipe = redis.pipeline(transaction=True)
    stream = streams.dead_letters(signer.service)
    pipe.xadd(stream, signer.signed(stream, letter))  # type: ignore[arg-type]
    pipe.xack(sub.stream, sub.group, entry_id)
    if sub.personal_data:
        pipe.xdel(sub.stream, entry_id)
    pipe.hdel(errors_key(sub), entry_id)
    await pipe.execute()
    log.error("entry_dead_lettered", stream=sub.stream, entry=entry_id, deliveries=deliveries)


def _text(value: bytes | str) -> bytes:
    return value if isinstance(value, bytes) else value.encode()


class Redelivery(background.Periodic):
    def __init__(
        self,
        redis: aioredis.Redis,
        subscription: Subscription,
        consumer: str,
        policy: Policy,
        consume: Consume,
        park: Park,
        signer: signing.Signer,
        metrics: Metrics | None = None,
    ) -> None:
        self.redis, self.subscription, self.consumer = redis, subscription, consumer
        self.policy, self.consume, self.park = policy, consume, park
        # Its own when none is given (a test's sweeper): counted, shown nowhere.
        self.signer, self.metrics = signer, metrics or Metrics()
        self.loop = background.Loop(
            f"redelivery:{subscription.name}", policy.claim_idle_ms / 4000, self.sweep
        )

    async def sweep(self) -> int:
        """Take every entry due again; returns how many were retried or dead-lettered."""
        sub = self.subscription
        pending: list[dict[str, Any]] = await self.redis.xpending_range(
            sub.stream, sub.group, min="-", max="+", count=SCAN, idle=self.policy.claim_idle_ms
        )
        handled = 0
        for item in pending:
            deliveries = int(item["times_delivered"])
            due = self.policy.due_after_ms(deliveries)
            if int(item["time_since_delivered"]) < due:
                continue
            entry_id = item["message_id"].decode()
            claimed: Any = await self.redis.xclaim(
                sub.stream, sub.group, self.consumer, due, [entry_id]
            )
            if not claimed or claimed[0][1] is None:
                continue  # another replica took it first, or it was deleted meanwhile
            fields = claimed[0][1]
            if deliveries >= self.policy.max_deliveries:
                error: Any = await self.redis.hget(errors_key(sub), entry_id)
                why = (error or b"unknown: the handler's error was not recorded").decode()
                await dead_letter(
                    self.redis, self.signer, sub, (entry_id, fields), deliveries, why, self.park
                )
                self.metrics.dead(sub, (entry_id, fields), metrics.EXHAUSTED)
            else:
                log.info(
                    "entry_redelivered", stream=sub.stream, entry=entry_id, deliveries=deliveries
                )
                self.metrics.retrying(sub, (entry_id, fields))
                await self.consume(sub, [(entry_id, fields)])
            handled += 1
        await self._forget_gone_consumers()
        return handled

    async def _forget_gone_consumers(self) -> None:
        sub = self.subscription
        consumers: list[dict[str, Any]] = await self.redis.xinfo_consumers(sub.stream, sub.group)
        for consumer in consumers:
            name = consumer["name"]
            name = name.decode() if isinstance(name, bytes) else name
            gone = consumer["pending"] == 0 and consumer["idle"] > self.policy.forget_consumer_ms
            if gone and name != self.consumer:
                await self.redis.xgroup_delconsumer(sub.stream, sub.group, name)
