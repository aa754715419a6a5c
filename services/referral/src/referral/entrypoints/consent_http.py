"""`POST /v1/referrals/{id}/consent`: the agency changes consent for one service or purpose."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from korpu_contracts import intake
from korpu_runtime.http import Problem
from referral.adapters import audit
from referral.domain import exceptions
from referral.entrypoints import http as referral_http
from referral.service_layer import consent, views

api = APIRouter(prefix="/v1", tags=["referrals"])


@api.post(
    "/referrals/{referral_id}/consent",
    responses=referral_http.problems(
        referral_http.UNAUTHORIZED,
        referral_http.CANNOT_SUBMIT,
        referral_http.NOT_FOUND_ANSWER,
        (409, "The referral is withdrawn or closed, or its person's data was erased"),
        (422, "An invalid body, or `not_required_child` for a person who is an adult"),
    ),
)
async def change_consent(
    referral_id: str,
    body: intake.ConsentChange,
    service: referral_http.ServiceDep,
    caller: referral_http.Submitter,
) -> dict[str, Any]:
    """Change consent for one purpose; a withdrawal or refusal cancels that service's task,
    a grant requests a task that consent had stopped. Answers the referral as now."""
    organization_id = caller.organization_id
    actor = audit.of(caller)
    try:
        found = await service.transaction(
            lambda uow: consent.change(uow, actor, referral_id, body.purpose, body.consent)
        )
    except exceptions.CaseEnded:
        raise Problem(
            409, "Case ended", "Consent cannot change on a withdrawn, closed or erased referral."
        ) from None
    except exceptions.NotAChild:
        raise Problem(
            422,
            "Not a child",
            "`not_required_child` is only for a child; this person is 18 or over.",
            errors=[{"field": "consent", "message": "not_required_child is only for a child"}],
        ) from None
    if not found:
        raise Problem(404, "Not found", referral_http.NOT_FOUND)
    # The answer is part of the change recorded above, not a second access.
    view = await service.db.run(
        lambda conn: views.referral_view(conn, organization_id, referral_id)
    )
    assert view is not None
    return view
