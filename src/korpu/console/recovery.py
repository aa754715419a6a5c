"""Recover from the page: `korpu recover --since`, for operators, after a dry run.

The first press counts, per service, the events written since the time that would be
sent again (nothing changes); the second sends them, if the count is still the one
shown. Readers drop what they already did, so recovering too much costs time only.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from sqlalchemy.engine import Connection

from korpu import recover
from korpu.console import accounts, i18n, spans, web


def router() -> APIRouter:
    api = APIRouter()

    @api.get("/recover")
    def form(
        request: Request, _session: web.Viewer, since: Annotated[str, Query(max_length=100)] = ""
    ) -> Response:
        return web.render(request, "recover.html", since=since, results=None, problem=None)

    @api.post("/recover")
    def run(request: Request, found: web.Operator, parts: web.Parts, form: web.Action) -> Response:
        text = form.get("since", "")[:100]
        try:
            since = spans.since(text)
            counted = recover.recover(since, dry_run=True)
        except spans.Unreadable as error:
            return _refused(request, text, error.said)
        except recover.RecoverError as error:
            return _refused(request, text, spans.database_away(error))
        total = sum(result.events for result in counted)
        expected = form.get("expected", "")
        if not expected.isdigit() or int(expected) != total:
            return web.render(
                request, "recover.html", since=text, results=counted, total=total,
                changed=expected.isdigit(), done=False, problem=None,
            )  # fmt: skip

        def act(conn: Connection) -> list[recover.Recovered]:
            detail = {"since": since.isoformat(), "events": total}
            accounts.record(conn, found.user, "recovered", None, detail)
            return recover.recover(since)

        try:
            results = parts.db.transaction(act)
        except recover.RecoverError as error:
            said = spans.database_away(error)
            raise web.Unavailable(said.message, **said.params) from None
        return web.render(
            request, "recover.html", since=text, results=results,
            total=sum(r.events for r in results), done=True, problem=None,
        )  # fmt: skip

    return api


def _refused(request: Request, text: str, said: i18n.Said) -> Response:
    return web.render(request, "recover.html", 400, since=text, results=None, problem=said)
