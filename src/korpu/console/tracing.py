"""Trace: every event about a referral, an event or a correlation id, and where each stands.

The page that answers "where is my referral stuck?" (korpu.trace, as `korpu trace`):
identifiers, types, streams, groups and states only, never an event's payload.
"""

from __future__ import annotations

from typing import Annotated

import redis
from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from korpu import trace
from korpu.console import web

# How each state reads at a glance: settled, on its way, or needing someone.
TONE = {
    "done": "good",
    "unread": "good",
    "pending": "wait",
    "undelivered": "wait",
    "unsent": "wait",
    "dead_lettered": "bad",
    "gone": "bad",
}


def router() -> APIRouter:
    api = APIRouter()

    @api.get("/trace")
    def page(
        request: Request,
        _session: web.Viewer,
        parts: web.Parts,
        id: Annotated[str, Query(max_length=200)] = "",
    ) -> Response:
        wanted = id.strip()
        if not wanted:
            return web.render(request, "trace.html", wanted="", found=None, problem="", tone=TONE)
        try:
            found = trace.find(parts.redis, wanted)
        except trace.BadQuery as error:
            return web.render(
                request, "trace.html", 400, wanted="", found=None, problem=str(error), tone=TONE
            )
        except redis.RedisError:
            raise web.Unavailable("Redis cannot be reached: the streams cannot be read.") from None
        return web.render(request, "trace.html", wanted=wanted, found=found, problem="", tone=TONE)

    return api
