"""Dead letters: find them by stream, type, error and time; open one; replay or discard.

The same operations as `korpu dlq` (korpu.dlq), with the operator's name on each in
`korpu.deadletters.resolved` and in the console's audit trail. Replaying a filtered
set takes two steps: a dry run saying how many, then the replay of exactly that many
(if the set changed meanwhile, the dry run is shown again with the new count).
"""

from __future__ import annotations

import math
import re
from typing import Annotated, Any
from urllib.parse import urlencode

import redis
from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.engine import Connection

from korpu import dlq
from korpu.console import accounts, i18n, spans, web

PAGE_SIZE = 50
# The most a filtered replay moves at once: a larger set is replayed in several.
MOST_AT_ONCE = 1000
# A dead letter's id as `korpu dlq` names it: `<ms>-<seq>`, maybe `<service>/` first.
LETTER_ID = re.compile(r"^([a-z_]{1,40}/)?\d{1,15}-\d{1,10}$")
ENTRY_ID = re.compile(r"^\d{1,15}-\d{1,10}$")
Text = Annotated[str, Query(max_length=200)]
FILTER = ("stream", "type", "error", "since", "until")
GONE = i18n.N_("No such dead letter: replayed or discarded already?")
REPLAYED = i18n.N_("Replayed %(id)s as entry %(entry)s of its stream.")
DISCARDED = i18n.N_("Discarded %(id)s: it will never be processed.")
REPLAYED_ALL = i18n.N_plural("Replayed %(num)s dead letter.", "Replayed %(num)s dead letters.")
REPLAYED_SOME = i18n.N_plural(
    "Replayed %(num)s dead letter; %(skipped)s skipped (resolved meanwhile, or forged).",
    "Replayed %(num)s dead letters; %(skipped)s skipped (resolved meanwhile, or forged).",
)


def router() -> APIRouter:
    api = APIRouter()

    @api.get("/dead-letters")
    def listing(
        request: Request,
        _session: web.Viewer,
        parts: web.Parts,
        stream: Text = "",
        type: Text = "",
        error: Text = "",
        since: Text = "",
        until: Text = "",
        page: Annotated[int, Query(ge=1, le=100_000)] = 1,
        replayed: Text = "",
        discarded: Text = "",
        entry: Text = "",
        count: Annotated[int | None, Query(ge=0, le=MOST_AT_ONCE)] = None,
        skipped: Annotated[int, Query(ge=0, le=MOST_AT_ONCE)] = 0,
    ) -> Response:
        form = {"stream": stream, "type": type, "error": error, "since": since, "until": until}
        selection, problem = _selection(form)
        letters = dlq.select(parts.redis, selection) if selection else []
        pages = max(1, math.ceil(len(letters) / PAGE_SIZE))
        shown = letters[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]
        return web.render(
            request,
            "dead_letters.html",
            letters=shown,
            total=len(letters),
            page=page,
            pages=pages,
            form=form,
            problem=problem,
            done=_told(replayed, discarded, entry, count, skipped),
            streams=sorted({letter.origin_stream for letter in letters}),
            now_ms=_now_ms(),
        )

    @api.get("/dead-letter")
    def one(request: Request, _session: web.Viewer, parts: web.Parts, id: Text = "") -> Response:
        letter = _letter(parts.redis, id)
        return web.render(
            request, "dead_letter.html", letter=letter, event=dlq.describe_event(letter)
        )

    @api.post("/dead-letters/replay")
    def replay(
        request: Request, found: web.Operator, parts: web.Parts, form: web.Action
    ) -> Response:
        letter_id = form.get("id", "")
        _letter(parts.redis, letter_id)  # 404 for an unknown or malformed id

        def act(conn: Connection) -> tuple[dlq.DeadLetter, str]:
            # The record first, in the transaction the replay runs in: a replay that
            # fails leaves no record; one that succeeds is never unrecorded.
            accounts.record(conn, found.user, "dead_letter_replayed", letter_id, {})
            return dlq.replay(parts.redis, letter_id, by=_by(found))

        letter, entry = _resolving(parts, act)
        told = urlencode({"replayed": letter.id, "entry": entry})
        return RedirectResponse(f"/dead-letters?{told}", status_code=303)

    @api.post("/dead-letters/discard")
    def discard(
        request: Request, found: web.Operator, parts: web.Parts, form: web.Action
    ) -> Response:
        letter_id, reason = form.get("id", ""), form.get("reason", "").strip()
        letter = _letter(parts.redis, letter_id)
        if not 1 <= len(reason) <= 500:
            return web.render(
                request, "dead_letter.html", 400, letter=letter,
                event=dlq.describe_event(letter),
                problem=i18n.Said(i18n.N_("Give a reason of 1 to 500 characters to discard it.")),
            )  # fmt: skip

        def act(conn: Connection) -> dlq.DeadLetter:
            accounts.record(
                conn, found.user, "dead_letter_discarded", letter_id, {"reason": reason}
            )
            return dlq.discard(parts.redis, letter_id, reason, by=_by(found))

        _resolving(parts, act)
        told = urlencode({"discarded": letter_id})
        return RedirectResponse(f"/dead-letters?{told}", status_code=303)

    @api.post("/dead-letters/replay-selected")
    def replay_selected(
        request: Request, found: web.Operator, parts: web.Parts, form: web.Action
    ) -> Response:
        chosen = {
            key: form.get(key, "")[:200] for key in ("stream", "type", "error", "since", "until")
        }
        selection, problem = _selection(chosen)
        if selection is None:
            said = problem or i18n.Said(i18n.N_("Unreadable filter."))
            raise web.Forbidden(said.message, **said.params)
        letters = dlq.select(parts.redis, selection)[:MOST_AT_ONCE]
        expected = form.get("expected", "")
        if not expected.isdigit() or int(expected) != len(letters):
            changed = expected.isdigit()
            return web.render(
                request, "replay_dry_run.html", letters=letters, form=chosen,
                changed=changed, most=MOST_AT_ONCE,
            )  # fmt: skip
        replayed, skipped = _replay_all(parts, found, letters)
        told = urlencode({"count": replayed, "skipped": skipped})
        return RedirectResponse(f"/dead-letters?{told}", status_code=303)

    return api


def _replay_all(
    parts: web.Console, found: accounts.Session, letters: list[dlq.DeadLetter]
) -> tuple[int, int]:
    replayed: list[str] = []
    for letter in letters:
        try:
            dlq.replay(parts.redis, letter.id, by=_by(found))
        except (dlq.UnknownDeadLetter, dlq.ForgedDeadLetter):
            continue
        replayed.append(letter.id)
    detail: dict[str, Any] = {"count": len(replayed), "ids": replayed[:100]}
    parts.db.transaction(
        lambda conn: accounts.record(conn, found.user, "dead_letters_replayed", None, detail)
    )
    return len(replayed), len(letters) - len(replayed)


def _resolving(parts: web.Console, act: Any) -> Any:
    try:
        return parts.db.transaction(act)
    except dlq.UnknownDeadLetter:
        raise web.NotFound(GONE) from None
    except dlq.ForgedDeadLetter:
        # Rejected: the reason's text (korpu_runtime.signing's English); the letter's
        # page says it is forged.
        raise web.Forbidden(i18n.N_("Not replayed: a forged dead letter.")) from None
    except redis.RedisError:
        raise web.Unavailable(i18n.N_("Redis cannot be reached: nothing was done.")) from None


def _letter(client: redis.Redis, letter_id: str) -> dlq.DeadLetter:
    if not LETTER_ID.match(letter_id):
        raise web.NotFound(i18n.N_("No such dead letter."))
    try:
        return dlq.get(client, letter_id)
    except dlq.UnknownDeadLetter:
        raise web.NotFound(GONE) from None


def _selection(form: dict[str, str]) -> tuple[dlq.Selection | None, i18n.Said | None]:
    """The filter as typed; None and why when a time cannot be read."""
    try:
        since = spans.since(form["since"]) if form["since"].strip() else None
        until = spans.since(form["until"]) if form["until"].strip() else None
    except spans.Unreadable as error:
        return None, error.said
    selection = dlq.Selection(
        stream=form["stream"].strip(),
        type=form["type"].strip(),
        error=form["error"].strip(),
        since_ms=None if since is None else int(since.timestamp() * 1000),
        until_ms=None if until is None else int(until.timestamp() * 1000),
    )
    return selection, None


def _by(found: accounts.Session) -> str:
    return f"console:{found.user.name}"


def _told(
    replayed: str, discarded: str, entry: str, count: int | None, skipped: int
) -> i18n.Said | None:
    """What the last action did, said after its redirect. Made here from ids checked
    against their shapes: a link cannot make the page say anything else (rejected:
    the sentence itself in the query, which anyone could write into a link)."""
    if LETTER_ID.match(replayed) and ENTRY_ID.match(entry):
        return i18n.Said(REPLAYED, {"id": replayed, "entry": entry})
    if LETTER_ID.match(discarded):
        return i18n.Said(DISCARDED, {"id": discarded})
    if count is not None and skipped:
        return i18n.Said.counted(REPLAYED_SOME, count, skipped=skipped)
    if count is not None:
        return i18n.Said.counted(REPLAYED_ALL, count)
    return None


def _now_ms() -> int:
    import time

    return int(time.time() * 1000)
