"""Capacity: per provider and region, places taken and free and the people waiting.

Read at each look from the providers' own `GET /v1/capacity` with the console's own
keys (korpu.console_keys: one organization per provider, `directory:read` only), so
the console holds no copy of any directory. A provider that cannot be read is named
with why; the others are still shown.
"""

from __future__ import annotations

import itertools
import re

from fastapi import APIRouter, Request
from fastapi.responses import Response

from korpu import capacity, catalog, console_keys
from korpu.console import i18n, web

# Why a provider could not be read (korpu.capacity's codes), in the console's words.
WHY = {
    capacity.NO_KEY: i18n.N_("no console key (run korpu console keys)"),
    capacity.UNREACHABLE: i18n.N_("unreachable"),
    capacity.TIMED_OUT: i18n.N_("timed out"),
    capacity.UNREADABLE: i18n.N_("unreadable answer"),
    "another provider answered": i18n.N_(
        "another provider answered (two addresses swapped in the settings?)"
    ),
}
REFUSED = re.compile(r"^key refused \((\d{3})\)$")
ANSWERED = re.compile(r"^answered (\d{3})$")


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
            request, "capacity.html", by_provider=by_provider,
            failures={name: _why(reason) for name, reason in found.failures.items()},
            missing=missing,
        )  # fmt: skip

    return api


def _why(reason: str) -> i18n.Said:
    if reason in WHY:
        return i18n.Said(WHY[reason])
    if refused := REFUSED.match(reason):
        return i18n.Said(i18n.N_("key refused (%(status)s)"), {"status": refused.group(1)})
    if answered := ANSWERED.match(reason):
        return i18n.Said(i18n.N_("answered %(status)s"), {"status": answered.group(1)})
    # A code this console does not know yet: shown as it is, a code not a sentence.
    return i18n.Said("%(code)s", {"code": reason})
