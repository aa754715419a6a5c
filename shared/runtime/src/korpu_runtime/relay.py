"""The outbox relay: sends committed events to their streams, each entry signed."""

from __future__ import annotations

import asyncio
import contextlib
import functools
from datetime import UTC, datetime, timedelta

import redis.asyncio as aioredis
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from korpu_contracts import streams
from korpu_runtime import background, signing
from korpu_runtime import logging as runtime_logging
from korpu_runtime.database import Database
from korpu_runtime.metrics import Metrics

log = runtime_logging.get(__name__)

BATCH = 500


class Relay:
    """Publishes unpublished outbox rows in id order, then marks them.

    A relay that dies after XADD but before marking publishes the rows again;
    readers drop the duplicate through their inbox (at-least-once by design).
    Rejected: XADD and mark in one step, which Redis and SQL cannot share.

    Replicas share the outbox: a relay first claims a batch for `claim_seconds`
    (rows locked by another replica's claim are skipped), so each row is normally
    sent once. A relay that dies holding a claim delays its rows by that long;
    another then sends them. Rejected: one leader relay per service, whose
    election would need its own failure handling for the same result.
    """

    def __init__(
        self,
        database: Database,
        redis: aioredis.Redis,
        outbox: sa.Table,
        poll_seconds: float,
        *,
        owner: str,
        signer: signing.Signer,
        claim_seconds: float = 10.0,
        metrics: Metrics | None = None,
    ) -> None:
        self._db = database
        self._signer = signer
        self._redis = redis
        self._outbox = outbox
        self._poll = poll_seconds
        self._owner = owner
        self._claim_for = timedelta(seconds=claim_seconds)
        self._metrics = metrics or Metrics()
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        # One flush at a time in this process: two would read and send the same rows.
        self._flushing = asyncio.Lock()
        self.published_total = 0
        # Streams this service writes to: its retention looks after them.
        self.streams_written: set[str] = set()

    def wake(self) -> None:
        self._wake.set()

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    def start(self) -> None:
        self._stopping = False
        self._task = asyncio.create_task(self._run(), name="outbox-relay")

    async def stop(self) -> None:
        if self._task is None:
            return
        # The flag, not the cancellation alone, ends the loop (korpu_runtime.background).
        self._stopping = True
        self._task.cancel()
        await asyncio.wait([self._task], timeout=background.STOP_SECONDS)
        # What was committed before the stop still goes out now, not at next start.
        try:
            await self.flush()
        except Exception:
            log.warning("relay_final_flush_failed", exc_info=True)

    async def _run(self) -> None:
        while not self._stopping:
            # Rejected: asyncio.wait_for, which on Python 3.11 can swallow the
            # cancellation from stop() when a wake-up lands in the same iteration.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self._poll):
                    await self._wake.wait()
            self._wake.clear()
            if self._stopping:
                return
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
            rows = await self._db.run(self._claim)
            if not rows:
                return sent
            pipe = self._redis.pipeline(transaction=False)
            for row in rows:
                entry: dict[str, bytes | str] = {streams.ENTRY_FIELD: row.body}
                pipe.xadd(row.stream, self._signer.signed(row.stream, entry))  # type: ignore[arg-type]
            await pipe.execute()
            await self._db.run(functools.partial(self._mark, ids=[row.id for row in rows]))
            sent += len(rows)
            self.published_total += len(rows)
            self.streams_written.update(row.stream for row in rows)
            self._metrics.sent(row.stream for row in rows)

    def _claim(self, conn: Connection) -> list[sa.Row[int, str, str]]:
        outbox, now = self._outbox.c, datetime.now(UTC)
        query = (
            sa.select(outbox.id, outbox.stream, outbox.body)
            .where(
                outbox.published_at.is_(None),
                sa.or_(outbox.claimed_until.is_(None), outbox.claimed_until < now),
            )
            .order_by(outbox.id)
            .limit(BATCH)
            # PostgreSQL: replicas claiming at once take different rows, none waits.
            # SQLite has one writer at a time and ignores it.
            .with_for_update(skip_locked=True)
        )
        rows = list(conn.execute(query))
        if rows:
            conn.execute(
                self._outbox.update()
                .where(outbox.id.in_([row.id for row in rows]))
                .values(claimed_by=self._owner, claimed_until=now + self._claim_for)
            )
        return rows

    def _mark(self, conn: Connection, ids: list[int]) -> None:
        conn.execute(
            self._outbox.update()
            .where(self._outbox.c.id.in_(ids))
            .values(published_at=datetime.now(UTC))
        )
