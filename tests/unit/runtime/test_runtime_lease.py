"""A handler's lease ends with the handler, whatever the Redis client does with a cancellation."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from korpu_runtime.consumer import Subscription
from korpu_runtime.redelivery import Policy, lease


class _AbsorbingRedis:
    """Renews once, then hangs in the next XCLAIM and, like a client tidying a connection,
    absorbs the cancellation meant to end it."""

    def __init__(self) -> None:
        self.renewals = 0
        self.stuck = asyncio.Event()
        self._never = asyncio.Event()

    async def xclaim(self, *_args: Any, **_kwargs: Any) -> list[Any]:
        self.renewals += 1
        if self.renewals == 2:
            self.stuck.set()
            with contextlib.suppress(asyncio.CancelledError):
                await self._never.wait()
        return []


def _ignore(*_args: Any) -> None:
    raise AssertionError("not called")


async def test_a_lease_ends_even_when_the_client_absorbs_the_cancellation_of_a_renewal() -> None:
    client = _AbsorbingRedis()
    subscription = Subscription(name="test", stream="s", group="g", handler=_ignore)
    policy = Policy(claim_idle_ms=30)  # a renewal every 10 ms

    async with asyncio.timeout(5):  # before the fix: waited for ever
        async with lease(client, subscription, "c1", ["1-0"], policy):  # type: ignore[arg-type]
            # The handler ends while a renewal hangs in Redis, after one that went through.
            await client.stuck.wait()

    # The renewal is over, not left running: none can follow the lease's end.
    others = asyncio.all_tasks() - {asyncio.current_task()}
    assert others == set()
    assert client.renewals == 2
