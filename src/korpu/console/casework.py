"""A case worker's pages: who is expected, who is in care, who waits, and what to do next.

Read from and acted on through the provider's own API (`/v1/tasks`) with the case
worker's own key (korpu.console.delegation): the provider checks every transition
and keeps its audit trail under that key. Where the account names entries (some
facilities, programs, ...), only their tasks are shown.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from fastapi.responses import RedirectResponse, Response

from korpu.console import accounts, i18n, services_api, web

# The most tasks one look reads (pages of the API's largest).
MOST = 2000
PAGE = 200
TaskId = Annotated[str, Path(pattern=r"^[0-9a-f-]{36}$")]
ACTIONS = ("arrived", "not-arrived", "decline", "complete", "transfer")
OUTCOMES = ("goal_achieved", "partially_achieved", "transferred", "left_voluntarily", "other")
# The kit's own fields of a task; the rest is where the provider placed the person.
KIT_FIELDS = {"task_id", "referral_id", "status", "reason", "waitlist_position",
              "updated_at", "revision", "history"}  # fmt: skip
# Waiting bands (issue: under 1 month, 1-3 months, over 3 months).
BANDS_DAYS = (30, 90)


def router() -> APIRouter:
    api = APIRouter()

    @api.get("/tasks")
    async def tasks(request: Request, found: web.CaseWorker, parts: web.Parts) -> Response:
        done = request.query_params.get("done", "") in ACTIONS
        return await _page(request, found, parts, done=done)

    @api.post("/tasks/{task_id}/{action}")
    async def act(
        request: Request,
        found: web.CaseWorker,
        parts: web.Parts,
        task_id: TaskId,
        action: Annotated[str, Path(pattern="^(" + "|".join(ACTIONS) + ")$")],
    ) -> Response:
        sent = await services_api.form(request, found)
        task = await services_api.call(parts, found, "GET", f"/v1/tasks/{task_id}")
        if not _mine(found, task):
            raise web.NotFound(i18n.N_("No such case or task."))
        try:
            await services_api.call(
                parts, found, "POST", f"/v1/tasks/{task_id}/{action}", body=_body(action, sent)
            )
        except services_api.Refused as refused:
            # Said on the page itself, never through a link anyone could write.
            return await _page(request, found, parts, problem=refused.detail, status=409)
        return RedirectResponse(f"/tasks?done={action}", status_code=303)

    return api


async def _page(
    request: Request,
    found: accounts.Session,
    parts: web.Console,
    *,
    done: bool = False,
    problem: str = "",
    status: int = 200,
) -> Response:
    every = [task for task in await _all(parts, found) if _mine(found, task)]
    now = dt.datetime.now(dt.UTC)
    groups = {
        "expected": [t for t in every if t["status"] == "accepted"],
        "in_care": [t for t in every if t["status"] == "in-progress"],
        "waiting": sorted(
            (t for t in every if t["status"] == "on-hold"),
            key=lambda t: t.get("waitlist_position") or 0,
        ),
    }
    return web.render(
        request, "tasks.html", status, groups=groups, place=_place,
        band=lambda t: _band(t, now), outcomes=OUTCOMES, problem=problem, done=done,
    )  # fmt: skip


async def _all(parts: web.Console, found: accounts.Session) -> list[dict[str, Any]]:
    """Every open task of the provider, page by page, up to MOST."""
    found_tasks: list[dict[str, Any]] = []
    cursor = ""
    while len(found_tasks) < MOST:
        page = await services_api.call(
            parts, found, "GET", "/v1/tasks", params={"limit": PAGE, "cursor": cursor}
        )
        found_tasks += page["tasks"]
        cursor = page.get("next_cursor") or ""
        if not page.get("more") or not cursor:
            break
    return found_tasks


def _mine(found: accounts.Session, task: dict[str, Any]) -> bool:
    """Every task of the organization, or those of the account's own entries."""
    tie = found.user.tie
    if tie is None or not tie.entries:
        return True
    return _place(task) in tie.entries


def _place(task: dict[str, Any]) -> str:
    """Where the provider placed the person: the facility's, program's, ... name."""
    for key, value in task.items():
        if key in KIT_FIELDS:
            continue
        if isinstance(value, dict) and isinstance(value.get("name"), str):
            return str(value["name"])
        if isinstance(value, str) and key in ("program", "lawyer", "counsellor", "clinic", "fund"):
            return value
    return ""


def _band(task: dict[str, Any], now: dt.datetime) -> str:
    # An on-hold task changes only when it leaves the line (its position is computed, not
    # stored): its last change is when it was put there.
    since = dt.datetime.fromisoformat(task["updated_at"])
    days = (now - since).days
    return "under_1" if days < BANDS_DAYS[0] else "1_3" if days < BANDS_DAYS[1] else "over_3"


def _body(action: str, sent: dict[str, str]) -> dict[str, Any] | None:
    if action == "not-arrived":
        return {"reason": sent.get("reason", "")}
    if action == "decline":
        return {"by": sent.get("by", "")}
    if action == "complete":
        return {"outcome": sent.get("outcome", "")}
    if action == "transfer":
        return {"to": sent.get("to", "").strip()}
    return None
