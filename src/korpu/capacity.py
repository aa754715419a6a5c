"""Every provider's capacity by region, read from their APIs for the operators' console.

Each provider answers `GET /v1/capacity` (korpu_contracts.capacity: counts only) to
the console's own key (korpu.console_keys). The providers are asked all at once,
each within `timeout`, so one that is down or slow costs the page that long and no
longer; it is listed as a failure with a short reason, and the others are shown.
A reason is ours, never the provider's text: an answer's body is not read into
an error. Rejected: reading the providers' databases directly, which would hand
the console every provider's database (people included) for a few counts.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Mapping
from typing import Any

import httpx
import pydantic

from korpu_contracts import capacity as contract

PATH = "/v1/capacity"
NO_KEY = "no console key"
UNREACHABLE = "unreachable"
TIMED_OUT = "timed out"
UNREADABLE = "unreadable answer"


@dataclasses.dataclass(frozen=True)
class Row:
    """One region at one provider, in the provider's unit (docs/capacity.md)."""

    provider: str
    region: str
    unit: str
    capacity: int
    taken: int
    free: int
    waiting: int


@dataclasses.dataclass(frozen=True)
class Capacity:
    """What could be read: rows by provider then region, and each provider not read, why."""

    rows: tuple[Row, ...]
    failures: Mapping[str, str]

    def to_dict(self) -> dict[str, Any]:
        return {
            "rows": [dataclasses.asdict(row) for row in self.rows],
            "failures": dict(sorted(self.failures.items())),
        }


def read(urls: Mapping[str, str], keys: Mapping[str, str], timeout: float = 3.0) -> Capacity:
    """Every provider's capacity by region, from `urls` (provider -> base URL) with `keys`
    (provider -> the console's key there). For a caller without an event loop."""
    return asyncio.run(read_async(urls, keys, timeout))


async def read_async(
    urls: Mapping[str, str],
    keys: Mapping[str, str],
    # Each request's own limit (httpx's), not the whole gather's: a provider slow to
    # connect and another slow to answer are each cut at `timeout`.
    timeout: float = 3.0,  # noqa: ASYNC109
) -> Capacity:
    """`read`, for a caller in an event loop (the console's own routes)."""
    names = sorted(urls)
    async with httpx.AsyncClient(timeout=timeout, follow_redirects=False) as client:
        answers = await asyncio.gather(
            *(_one(client, name, urls[name], keys.get(name)) for name in names)
        )
    rows: list[Row] = []
    failures: dict[str, str] = {}
    for name, answer in zip(names, answers, strict=True):
        if isinstance(answer, str):
            failures[name] = answer
        else:
            rows += answer
    return Capacity(tuple(rows), failures)


async def _one(client: httpx.AsyncClient, name: str, url: str, key: str | None) -> list[Row] | str:
    """The provider's rows, or why there are none."""
    if not key:
        return NO_KEY
    try:
        answer = await client.get(
            url.rstrip("/") + PATH, headers={"Authorization": f"Bearer {key}"}
        )
    except httpx.TimeoutException:
        return TIMED_OUT
    except httpx.HTTPError:
        # Connection refused, a name not resolved, a reset: the provider is not there.
        # Rejected: the exception's text, which may carry the URL and the OS's words.
        return UNREACHABLE
    if answer.status_code in (401, 403):
        return f"key refused ({answer.status_code})"
    if answer.status_code != 200:
        return f"answered {answer.status_code}"
    try:
        found = contract.Capacity.model_validate_json(answer.content)
    except pydantic.ValidationError:
        return UNREADABLE
    if found.service != name:
        return "another provider answered"  # two URLs swapped in the settings
    return [
        Row(name, r.region, found.unit, r.capacity, r.taken, r.free, r.waiting)
        for r in found.regions
    ]
