"""Retention: streams trimmed below their slowest reader, old published outbox rows removed.

A stream is trimmed with XTRIM MINID at the position of its slowest consumer
group: the oldest entry still pending anywhere, or the last one the group was
given. Nothing a group has not processed is ever removed, and a group that
stops reading holds the stream where it stands. A stream nobody reads through a
group (agencies may read the status stream with plain XREAD) keeps its entries
for `stream_retention`. Rejected: `MAXLEN` on every XADD (FastStream's
`publish(maxlen=...)`), which trims by count and drops entries still pending
(docs/faststream-on-redis.md).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

import redis.asyncio as aioredis
import sqlalchemy as sa
from redis.exceptions import ResponseError
from sqlalchemy.engine import Connection

from korpu_runtime import background
from korpu_runtime import logging as runtime_logging
from korpu_runtime.database import Database

log = runtime_logging.get(__name__)


def _stream_id(raw: bytes | str) -> tuple[int, int]:
    text = raw.decode() if isinstance(raw, bytes) else raw
    millis, _, sequence = text.partition("-")
    return int(millis), int(sequence or 0)


async def trim_floor(redis: aioredis.Redis, stream: str, keep_ms: int) -> str | None:
    """The MINID below which `stream` may be trimmed, or None when nothing may go."""
    try:
        groups: list[dict[str, Any]] = await redis.xinfo_groups(stream)
    except ResponseError:
        return None  # no such stream
    if not groups:
        return f"{int(time.time() * 1000) - keep_ms}-0"
    floors = []
    for group in groups:
        floors.append(_stream_id(group["last-delivered-id"]))
        if group["pending"]:
            summary: dict[str, Any] = await redis.xpending(stream, group["name"])
            # None when the group acknowledged everything since XINFO was read.
            if summary["min"] is not None:
                floors.append(_stream_id(summary["min"]))
    millis, sequence = min(floors)
    return None if (millis, sequence) == (0, 0) else f"{millis}-{sequence}"


async def trim(redis: aioredis.Redis, stream: str, keep_ms: int) -> int:
    """Trim `stream` below its floor; returns how many entries went."""
    floor = await trim_floor(redis, stream, keep_ms)
    if floor is None:
        return 0
    # Exact, not `~`: an approximate trim may keep whole nodes, which is harmless,
    # but the counts an operator reads in `korpu status` would then look random.
    removed: int = await redis.xtrim(stream, minid=floor, approximate=False)
    return removed


class Retention(background.Periodic):
    def __init__(
        self,
        database: Database,
        redis: aioredis.Redis,
        outbox: sa.Table,
        streams: Callable[[], Iterable[str]],
        *,
        interval_seconds: float,
        stream_retention: timedelta,
        outbox_retention: timedelta,
    ) -> None:
        self._db, self._redis, self._outbox, self._streams = database, redis, outbox, streams
        self._keep_ms = int(stream_retention.total_seconds() * 1000)
        self._outbox_retention = outbox_retention
        self.loop = background.Loop("retention", interval_seconds, self.run_once)

    async def run_once(self) -> tuple[int, int]:
        """Trim every stream looked after and purge old outbox rows; returns both counts."""
        trimmed = 0
        for stream in sorted(set(self._streams())):
            trimmed += await trim(self._redis, stream, self._keep_ms)
        purged = await self._db.run(self._purge)
        if trimmed or purged:
            log.info("retention_done", entries_trimmed=trimmed, outbox_rows_purged=purged)
        return trimmed, purged

    def _purge(self, conn: Connection) -> int:
        before = datetime.now(UTC) - self._outbox_retention
        result = conn.execute(
            self._outbox.delete().where(
                self._outbox.c.published_at.is_not(None), self._outbox.c.published_at < before
            )
        )
        return int(result.rowcount or 0)
