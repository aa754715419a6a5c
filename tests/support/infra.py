"""Waiting with a deadline: how tests wait for something to happen, instead of sleeping."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")

DEFAULT_TIMEOUT_SECONDS = 5.0
DEFAULT_INTERVAL_SECONDS = 0.02


def wait_until(
    predicate: Callable[[], T],
    timeout: float = DEFAULT_TIMEOUT_SECONDS,
    interval: float = DEFAULT_INTERVAL_SECONDS,
    message: str = "condition not met",
) -> T:
    """Poll `predicate` until it returns something truthy, and return that."""
    deadline = time.monotonic() + timeout
    while not (result := predicate()):
        if time.monotonic() >= deadline:
            raise AssertionError(f"{message} (waited {timeout}s)")
        time.sleep(interval)
    return result


async def wait_for(
    async_predicate: Callable[[], Awaitable[T]],
    # The deadline is this helper's whole point; asyncio.timeout enforces it below.
    timeout: float = DEFAULT_TIMEOUT_SECONDS,  # noqa: ASYNC109
    message: str = "condition not met",
    interval: float = DEFAULT_INTERVAL_SECONDS,
) -> T:
    """Await `async_predicate` until it returns something truthy, and return that.

    The deadline also bounds a predicate that hangs, which a polling loop alone would not.
    """
    deadline = asyncio.timeout(timeout)
    try:
        async with deadline:
            while True:
                if result := await async_predicate():
                    return result
                await asyncio.sleep(interval)
    except TimeoutError:
        if not deadline.expired():
            raise  # the predicate's own TimeoutError, not our deadline
        raise AssertionError(f"{message} (waited {timeout}s)") from None
