"""A service's background loops (redelivery, healing, retention), and how they stop.

A loop stops on an event, with the cancellation only as a nudge and the wait
bounded. redis.asyncio can absorb a cancellation that lands inside a command
(redis/redis-py#2028, #2551; seen here with 8.1.0): a loop that relied on
`task.cancel()` alone then went on running, and the service's stop waited its
full bound for it.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable

from korpu_runtime import logging as runtime_logging

log = runtime_logging.get(__name__)
STOP_SECONDS = 5.0


class Loop:
    """Runs `body` every `interval` seconds until stopped; a failing round is logged and retried."""

    def __init__(self, name: str, interval: float, body: Callable[[], Awaitable[object]]) -> None:
        self.name, self._interval, self._body = name, interval, body
        self._stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    def start(self) -> None:
        self._stopping = asyncio.Event()
        self._task = asyncio.create_task(self._run(), name=self.name)

    async def stop(self) -> None:
        if self._task is None:
            return
        self._stopping.set()
        self._task.cancel()
        # asyncio.wait: never raises, and leaves a cancellation of our caller alone.
        await asyncio.wait([self._task], timeout=STOP_SECONDS)
        if not self._task.done():
            log.error("background_loop_did_not_stop", loop=self.name)

    async def pause(self, seconds: float) -> bool:
        """Sleep up to `seconds`; True when the loop is being stopped."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                await self._stopping.wait()
        return self._stopping.is_set()

    async def _run(self) -> None:
        while not await self.pause(self._interval):
            try:
                await self._body()
            except Exception:
                # Redis or the database away: the next round tries again.
                log.warning("background_round_failed", loop=self.name, exc_info=True)


class Periodic:
    """A part whose work is one `Loop`: starting, stopping and `running` are the loop's."""

    loop: Loop

    @property
    def running(self) -> bool:
        return self.loop.running

    def start(self) -> None:
        self.loop.start()

    async def stop(self) -> None:
        await self.loop.stop()
