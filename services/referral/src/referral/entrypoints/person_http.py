"""`GET /v1/referrals/{id}/person`: the person an organization referred, to that organization.

For keys holding `persons:read`. The one HTTP answer about the person: every
other answer, event and log line carries none of it. Each read is recorded in the
audit trail (service_layer/audited.py), in the transaction that reads.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel

from korpu_contracts import intake
from korpu_runtime.http import Problem
from referral.adapters import audit
from referral.entrypoints import http as referral_http
from referral.service_layer import audited


class PersonAnswer(BaseModel):
    """The person as the organization sent them (documentation of the answer)."""

    id: str
    person: intake.Person
    circumstances: intake.Circumstances
    notes: str | None


CANNOT_READ_PERSONS = (403, "An API key without the scope `persons:read`")
ERASED_OR_NOT_FOUND = (
    404,
    "No such referral, another organization's, or its person's data was erased",
)
PROBLEM = {"application/problem+json": {"schema": {"type": "object"}}}
api = APIRouter(prefix="/v1", tags=["referrals"])


@api.get(
    "/referrals/{referral_id}/person",
    # Not validated on the way out: a validation error's text would quote the
    # person. Rejected: response_model=PersonAnswer, for that reason.
    response_model=None,
    responses={
        200: {"model": PersonAnswer, "description": "The person, as sent"},
        **{
            status: {"description": text, "content": PROBLEM}
            for status, text in (
                referral_http.UNAUTHORIZED,
                CANNOT_READ_PERSONS,
                ERASED_OR_NOT_FOUND,
            )
        },
    },
)
async def read_person(
    referral_id: str, service: referral_http.ServiceDep, caller: referral_http.PersonReader
) -> dict[str, Any]:
    """The referred person, for the organization that referred them; each read is recorded."""
    actor = audit.of(caller)
    found = await service.db.run(lambda conn: audited.person(conn, actor, referral_id))
    if found is None:
        raise Problem(404, "Not found", "No such referral for this organization, or erased.")
    return found
