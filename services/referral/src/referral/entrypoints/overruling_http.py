"""`POST /v1/referrals/{id}/not-a-duplicate`: the agency overrules a false duplicate match."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from korpu_runtime.http import Problem
from referral.adapters import audit
from referral.domain import exceptions
from referral.entrypoints import http as referral_http
from referral.service_layer import overruling, views

api = APIRouter(prefix="/v1", tags=["referrals"])


@api.post(
    "/referrals/{referral_id}/not-a-duplicate",
    responses=referral_http.problems(
        referral_http.UNAUTHORIZED,
        referral_http.CANNOT_SUBMIT,
        referral_http.NOT_FOUND_ANSWER,
        (409, "The referral is not linked as a duplicate, or its person's data was erased"),
    ),
)
async def not_a_duplicate(
    referral_id: str, service: referral_http.ServiceDep, caller: referral_http.Submitter
) -> dict[str, Any]:
    """This referral is another person than the case it was linked to: coordinate it now,
    from its needs and consent as submitted. Answers the referral as now."""
    organization_id = caller.organization_id
    actor = audit.of(caller)
    try:
        found = await service.transaction(lambda uow: overruling.overrule(uow, actor, referral_id))
    except exceptions.NotLinked:
        raise Problem(409, "Not linked", "This referral is not linked as a duplicate.") from None
    except exceptions.CaseEnded:
        raise Problem(409, "Case ended", "This referral's person was erased.") from None
    if not found:
        raise Problem(404, "Not found", referral_http.NOT_FOUND)
    view = await service.db.run(
        lambda conn: views.referral_view(conn, organization_id, referral_id)
    )
    assert view is not None
    return view
