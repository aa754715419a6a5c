"""The overview: every stream, its groups and consumers, dead letters, each instance's health.

It refreshes itself (htmx asks for its body every few seconds; without JavaScript a
reload does the same) and marks in red what an alert rule would fire on, plus a lag
that keeps growing, which only a second look can tell.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from typing import Any

import httpx
import redis
from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from korpu import status
from korpu.console import i18n, web

REFRESH_SECONDS = 5
# A lag grows when it never fell over at least this long and is higher at the end:
# a burst being worked off is not growing (rejected: any rise between two looks,
# which every new entry would make red for a moment).
GROWING_OVER_S = 60.0
KEPT_S = 600.0
# An instance's readiness as the services answer it, in the console's words; anything
# else is shown as it came (a word of at most 20 characters, never a sentence).
READINESS = {
    "ready": i18n.N_("ready"),
    "degraded": i18n.N_("degraded"),
    "not ready": i18n.N_("not ready"),
    "unreachable": i18n.N_("unreachable"),
    "unknown": i18n.N_("unknown"),
}


def router() -> APIRouter:
    api = APIRouter()

    @api.get("/")
    async def page(request: Request, _session: web.Viewer, parts: web.Parts) -> Response:
        return web.render(request, "overview.html", **await _looked(parts))

    @api.get("/overview")
    async def body(request: Request, _session: web.Viewer, parts: web.Parts) -> Response:
        return web.render(request, "overview_body.html", **await _looked(parts))

    return api


async def _looked(parts: web.Console) -> dict[str, Any]:
    report, instances = await asyncio.gather(
        run_in_threadpool(_report, parts.redis), _instances(parts.settings.service_urls)
    )
    growing = _growing(parts, report) if report else set()
    flags: dict[tuple[str, str | None], set[str]] = {}
    for problem in report["problems"] if report else []:
        flags.setdefault((problem["stream"], problem["group"]), set()).add(problem["check"])
    for key in growing:
        flags.setdefault(key, set()).add("lag_growing")
    return {
        "report": report,
        "flags": flags,
        "instances": instances,
        "growing": growing,
        "refresh": REFRESH_SECONDS,
        "readiness": READINESS,
    }


def _report(client: redis.Redis) -> dict[str, Any] | None:
    """`korpu status`'s report; None when Redis cannot be reached (the page says so)."""
    try:
        return status.collect(client)
    except redis.RedisError:
        return None


def _growing(parts: web.Console, report: dict[str, Any]) -> set[tuple[str, str]]:
    now, found = time.monotonic(), set()
    for stream in report["streams"]:
        for group in stream["groups"]:
            key = (stream["name"], group["name"])
            seen = [s for s in parts.lags.get(key, []) if now - s[0] <= KEPT_S]
            seen.append((now, group["lag"]))
            parts.lags[key] = seen
            recent = [s for s in seen if now - s[0] <= 2 * GROWING_OVER_S]
            lags = [lag for _, lag in recent]
            spans = recent[-1][0] - recent[0][0] >= GROWING_OVER_S
            never_fell = all(b >= a for a, b in itertools.pairwise(lags))
            if spans and never_fell and lags[-1] > lags[0]:
                found.add(key)
    return found


async def _instances(urls: dict[str, str]) -> list[dict[str, Any]]:
    """Each instance's own readiness answer, asked now."""
    async with httpx.AsyncClient(timeout=2.0) as client:
        answers = await asyncio.gather(*(_ready(client, url) for url in urls.values()))
    return [
        {"name": name, "url": url, **answer}
        for (name, url), answer in zip(urls.items(), answers, strict=True)
    ]


async def _ready(client: httpx.AsyncClient, url: str) -> dict[str, Any]:
    try:
        answer = await client.get(f"{url}/health/ready")
        body = answer.json()
    except (httpx.HTTPError, ValueError):
        return {"status": "unreachable", "failing": []}
    checks = body.get("checks", {}) if isinstance(body, dict) else {}
    failing = sorted(str(name) for name, ok in checks.items() if not ok)[:10]
    return {"status": str(body.get("status", "unknown"))[:20], "failing": failing}
