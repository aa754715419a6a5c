"""Capacity: per provider and region, places taken and free and the people waiting.

Read at each look from the providers' own `GET /v1/capacity` with the console's own
keys (korpu.console_keys: one organization per provider, `directory:read` only), so
the console holds no copy of any directory. A provider that cannot be read is named
with why; the others are still shown.
"""

from __future__ import annotations

import itertools

from fastapi import APIRouter, Request
from fastapi.responses import Response

from korpu import capacity, catalog, console_keys
from korpu.console import web


def router() -> APIRouter:
    api = APIRouter()

    @api.get("/capacity")
    async def page(request: Request, _session: web.Viewer, parts: web.Parts) -> Response:
        urls = {
            name: url for name, url in parts.settings.service_urls.items()
            if name in catalog.PROVIDERS
        }  # fmt: skip
        try:
            keys = console_keys.load(parts.settings.keys_dir)
        except console_keys.BrokenFile:
            keys = {}
        found = await capacity.read_async(urls, keys)
        by_provider = [
            (provider, list(rows))
            for provider, rows in itertools.groupby(found.rows, key=lambda row: row.provider)
        ]
        missing = [name for name in catalog.PROVIDERS if name not in urls]
        return web.render(
            request, "capacity.html", by_provider=by_provider, failures=found.failures,
            missing=missing,
        )  # fmt: skip

    return api
