"""Putting back what Redis lost: consumer groups, and the readers that stopped without them.

When Redis restarts without its data (or someone runs FLUSHALL), every consumer
group is gone. FastStream's reader then stops for good on NOGROUP (docs/faststream-on-redis.md),
and the service would sit idle while looking alive. The healer notices a stopped
reader, creates the groups again at the start of their streams and restarts it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import redis.asyncio as aioredis
from faststream.redis import RedisBroker
from redis.exceptions import ResponseError

from korpu_runtime import background
from korpu_runtime import logging as runtime_logging
from korpu_runtime.consumer import Subscription

log = runtime_logging.get(__name__)


async def provision_groups(redis: aioredis.Redis, subscriptions: Sequence[Subscription]) -> int:
    """Create every missing consumer group at the start of its stream; returns how many.

    At `0`, not at `$`: entries written while the group did not exist (before the
    first start, or republished by `korpu recover` after a wipe) are delivered;
    those already processed are dropped by the inbox. Rejected: FastStream's own
    creation at `$`, which skips them for good (docs/faststream-on-redis.md).
    """
    created = 0
    for subscription in subscriptions:
        try:
            await redis.xgroup_create(
                subscription.stream, subscription.group, id="0", mkstream=True
            )
        except ResponseError as error:
            if "BUSYGROUP" not in str(error):
                raise
        else:
            created += 1
    return created


def reader_alive(subscriber: Any) -> bool:
    tasks = getattr(subscriber, "tasks", [])
    return bool(subscriber.running) and all(not task.done() for task in tasks)


class Healer(background.Periodic):
    def __init__(
        self,
        redis: aioredis.Redis,
        subscriptions: Sequence[Subscription],
        broker: RedisBroker,
        interval_seconds: float,
    ) -> None:
        self._redis, self._subscriptions, self._broker = redis, subscriptions, broker
        self.loop = background.Loop("healer", interval_seconds, self.heal)
        self.healed_total = 0

    async def heal(self) -> int:
        """Provision missing groups, then restart stopped readers; returns how many restarted."""
        stopped = [s for s in self._broker.subscribers if not reader_alive(s)]
        created = await provision_groups(self._redis, self._subscriptions)
        if created:
            log.warning("consumer_groups_recreated", groups=created)
        for subscriber in stopped:
            if subscriber.running:
                await subscriber.stop()  # a reader whose task died: stop it cleanly first
            await subscriber.start()
            stream = subscriber.stream_sub.name  # type: ignore[attr-defined]
            log.warning("reader_restarted", stream=stream)
        self.healed_total += len(stopped)
        return len(stopped)
