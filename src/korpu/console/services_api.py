"""Calling a service's API as the signed-in person, with their own key (korpu.console.delegation).

The service decides what the key may do and records it; a refusal becomes a page that
says so, a service out of reach one that says nothing was done. A problem document's
`errors` (the fields a service refused) are handed to the page to show.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import httpx
from fastapi import Request

from korpu.console import accounts, i18n, web

TIMEOUT_SECONDS = 5.0


@dataclasses.dataclass(frozen=True)
class Refused(Exception):
    """The service refused the request's content (422, 409): what it said, for the page."""

    status: int
    detail: str
    fields: tuple[str, ...] = ()


async def call(
    parts: web.Console,
    found: accounts.Session,
    method: str,
    path: str,
    *,
    params: dict[str, Any] | None = None,
    body: dict[str, Any] | None = None,
) -> Any:
    """The JSON the service answers `method path` with, as the person."""
    delegate = web.delegate(parts, found)
    query = {key: value for key, value in (params or {}).items() if value not in (None, "")}
    try:
        async with httpx.AsyncClient(
            base_url=delegate.base_url, headers=delegate.headers, timeout=TIMEOUT_SECONDS
        ) as client:
            answer = await client.request(method, path, params=query, json=body)
    except httpx.HTTPError:
        raise web.Unavailable(i18n.N_("The service cannot be reached: nothing was done.")) from None
    if answer.status_code in (401, 403):
        raise web.Forbidden(i18n.N_("The service refused your key: ask an operator to check it."))
    if answer.status_code == 404:
        raise web.NotFound(i18n.N_("No such case or task."))
    if answer.status_code in (409, 422):
        raise Refused(answer.status_code, *_problem(answer))
    if answer.status_code >= 400:
        raise web.Unavailable(i18n.N_("The service could not do it: nothing was done."))
    return answer.json()


def _problem(answer: httpx.Response) -> tuple[str, tuple[str, ...]]:
    try:
        document = answer.json()
    except ValueError:
        return "", ()
    detail = str(document.get("detail") or document.get("title") or "")[:300]
    fields = tuple(str(item.get("field", ""))[:100] for item in document.get("errors") or [])
    return detail, fields


async def form(request: Request, found: accounts.Session) -> dict[str, str]:
    """A form of a case worker's or coordinator's page, checked like every form
    (`web.checked_form`), each value bounded."""
    sent = await web.checked_form(request, found)
    return {key: value[:500] for key, value in sent.items()}
