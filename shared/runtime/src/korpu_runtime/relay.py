"""The outbox relay: sends committed events to their streams as plain JSON entries."""

from __future__ import annotations

import asyncio
import contextlib
import functools
from datetime import UTC, datetime

import redis.asyncio as aioredis
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from korpu_contracts import streams
from korpu_runtime import logging as runtime_logging
from korpu_runtime.database import Database

log = runtime_logging.get(__name__)

BATCH = 500


class Relay:
    """Publishes unpublished outbox rows in id order, then marks them.

    A relay that dies after XADD but before marking publishes the rows again;
    readers drop the duplicate through their inbox (at-least-once by design).
    Rejected: XADD and mark in one step, which Redis and SQL cannot share.
    """

    def __init__(
        self, database: Database, redis: aioredis.Redis, outbox: sa.Table, poll_seconds: float
    ) -> None:
        self._db = database
        self._redis = redis
        self._outbox = outbox
        self._poll = poll_seconds
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        # One flush at a time in this process: two would read and send the same rows.
        self._flushing = asyncio.Lock()
        self.published_total = 0

    def wake(self) -> None:
        self._wake.set()

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="outbox-relay")

    async def stop(self) -> None:
        if self._task is None:
            return
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        # What was committed before the stop still goes out now, not at next start.
        try:
            await self.flush()
        except Exception:
            log.warning("relay_final_flush_failed", exc_info=True)

    async def _run(self) -> None:
        while True:
            # Rejected: asyncio.wait_for, which on Python 3.11 can swallow the
            # cancellation from stop() when a wake-up lands in the same iteration.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self._poll):
                    await self._wake.wait()
            self._wake.clear()
            try:
                await self.flush()
            except Exception:
                # Redis or the database is away: the rows stay and the next round retries.
                log.warning("relay_publish_failed", exc_info=True)
                await asyncio.sleep(min(self._poll, 1.0))

    async def flush(self) -> int:
        """Publish every pending row; returns how many were sent."""
        async with self._flushing:
            return await self._flush()

    async def _flush(self) -> int:
        sent = 0
        while True:
            rows = await self._db.run(self._pending)
            if not rows:
                return sent
            pipe = self._redis.pipeline(transaction=False)
            for row in rows:
                pipe.xadd(row.stream, {streams.ENTRY_FIELD: row.body})
            await pipe.execute()
            await self._db.run(functools.partial(self._mark, ids=[row.id for row in rows]))
            sent += len(rows)
            self.published_total += len(rows)

    def _pending(self, conn: Connection) -> list[sa.Row[tuple[int, str, str]]]:
        query = (
            sa.select(self._outbox.c.id, self._outbox.c.stream, self._outbox.c.body)
            .where(self._outbox.c.published_at.is_(None))
            .order_by(self._outbox.c.id)
            .limit(BATCH)
        )
        return list(conn.execute(query))

    def _mark(self, conn: Connection, ids: list[int]) -> None:
        conn.execute(
            self._outbox.update()
            .where(self._outbox.c.id.in_(ids))
            .values(published_at=datetime.now(UTC))
        )
