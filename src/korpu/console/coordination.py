"""The national coordinator's pages: Action needed, every case, and one case's decisions.

Read from and written to the referral service's coordinator API (`/v1/coordinator`)
with the coordinator's own key, so every view and decision is in the referral
service's audit trail. No personal data: the API never answers any.
"""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import RedirectResponse, Response

from korpu.console import services_api, web

CASE_ID = r"^[0-9a-f-]{36}$"
API = "/v1/coordinator"
# The list's filters, passed to the API as they are; it checks them.
FILTERS = ("status", "region", "agency_reference", "flag", "identification", "waiting_over_hours")
Text = Annotated[str, Query(max_length=100)]
CaseId = Annotated[str, Path(pattern=CASE_ID)]
EXTENSION_REASONS = (
    "health",
    "safety",
    "criminal_proceedings",
    "identification_pending",
    "child_best_interests",
    "other",
)


def router() -> APIRouter:
    api = APIRouter()

    @api.get("/queue")
    async def queue(request: Request, found: web.Coordinator, parts: web.Parts) -> Response:
        answer = await services_api.call(parts, found, "GET", f"{API}/queue")
        return web.render(request, "queue.html", items=answer["items"])

    @api.get("/cases")
    async def cases(
        request: Request,
        found: web.Coordinator,
        parts: web.Parts,
        status: Text = "",
        region: Text = "",
        agency_reference: Text = "",
        flag: Text = "",
        identification: Text = "",
        waiting_over_hours: Text = "",
        cursor: Annotated[str, Query(max_length=200)] = "",
    ) -> Response:
        chosen = {
            "status": status, "region": region, "agency_reference": agency_reference,
            "flag": flag, "identification": identification,
            "waiting_over_hours": waiting_over_hours,
        }  # fmt: skip
        problem = ""
        try:
            answer = await services_api.call(
                parts, found, "GET", f"{API}/cases", params={**chosen, "cursor": cursor}
            )
        except services_api.Refused as refused:
            answer, problem = {"cases": [], "next_cursor": None}, refused.detail
        return web.render(
            request, "cases.html", cases=answer["cases"], next_cursor=answer["next_cursor"],
            form=chosen, problem=problem,
        )  # fmt: skip

    @api.get("/cases/{case_id}")
    async def case(
        request: Request, found: web.Coordinator, parts: web.Parts, case_id: CaseId
    ) -> Response:
        answer = await services_api.call(parts, found, "GET", f"{API}/cases/{case_id}")
        return _case_page(request, answer)

    @api.post("/cases/{case_id}/{decision}")
    async def decide(
        request: Request,
        found: web.Coordinator,
        parts: web.Parts,
        case_id: CaseId,
        decision: Annotated[
            str, Path(pattern=r"^(identification|recovery-period|duplicate-resolution)$")
        ],
    ) -> Response:
        sent = await services_api.form(request, found)
        body = _decision(decision, sent)
        try:
            await services_api.call(
                parts, found, "POST", f"{API}/cases/{case_id}/{decision}", body=body
            )
        except services_api.Refused as refused:
            answer = await services_api.call(parts, found, "GET", f"{API}/cases/{case_id}")
            return _case_page(request, answer, refused.detail, 422)
        return RedirectResponse(f"/cases/{case_id}?done={decision}", status_code=303)

    return api


def _decision(decision: str, sent: dict[str, str]) -> dict[str, object]:
    if decision == "identification":
        return {"status": sent.get("status", ""), "decided_on": sent.get("decided_on", "")}
    if decision == "recovery-period":
        days = sent.get("extend_days", "")
        return {
            "extend_days": int(days) if re.fullmatch(r"\d{1,3}", days) else 0,
            "reason": sent.get("reason", ""),
        }
    return {"resolution": sent.get("resolution", "")}


def _case_page(
    request: Request, answer: dict[str, object], problem: str = "", status: int = 200
) -> Response:
    done = request.query_params.get("done", "")
    return web.render(
        request, "case.html", status, case=answer, problem=problem,
        done=done if done in ("identification", "recovery-period", "duplicate-resolution") else "",
        reasons=EXTENSION_REASONS,
    )  # fmt: skip
