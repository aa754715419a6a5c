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
from korpu.console import i18n, web

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
# Said in the console's words (rejected: korpu.trace.BadQuery's English text).
NOT_AN_ID = i18n.N_(
    "Give a referral id, an event id or a correlation id: 1 to 64 letters, digits, "
    "'.', '_', ':' or '-'."
)


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
            return web.render(request, "trace.html", wanted="", found=None, problem=None, tone=TONE)
        try:
            found = trace.find(parts.redis, wanted)
        except trace.BadQuery:
            problem = i18n.Said(NOT_AN_ID)
            return web.render(
                request, "trace.html", 400, wanted="", found=None, problem=problem, tone=TONE
            )
        except redis.RedisError:
            raise web.Unavailable(
                i18n.N_("Redis cannot be reached: the streams cannot be read.")
            ) from None
        return web.render(
            request, "trace.html", wanted=wanted, found=found, problem=None, tone=TONE
        )

    return api
