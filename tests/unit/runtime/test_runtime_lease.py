"""A handler's lease ends with the handler, whatever the Redis client does with a cancellation."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from korpu_runtime.consumer import Subscription
from korpu_runtime.redelivery import Policy, lease


class _AbsorbingRedis:
    """Answers XCLAIM slowly and, like a client tidying a connection, absorbs a cancellation."""

    def __init__(self) -> None:
        self.renewals = 0

    async def xclaim(self, *_args: Any, **_kwargs: Any) -> list[Any]:
        self.renewals += 1
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.sleep(0.2)
        return []


def _ignore(*_args: Any) -> None:
    raise AssertionError("not called")


async def test_a_lease_ends_even_when_the_client_absorbs_the_cancellation_of_a_renewal() -> None:
    client = _AbsorbingRedis()
    subscription = Subscription(name="test", stream="s", group="g", handler=_ignore)
    policy = Policy(claim_idle_ms=30)  # a renewal every 10 ms, each taking 200 ms

    async with asyncio.timeout(5):  # before the fix: waited for ever
        async with lease(client, subscription, "c1", ["1-0"], policy):  # type: ignore[arg-type]
            await asyncio.sleep(0.5)

    renewals = client.renewals
    await asyncio.sleep(0.5)
    assert renewals >= 2
    assert client.renewals == renewals  # and no renewal goes on after it
