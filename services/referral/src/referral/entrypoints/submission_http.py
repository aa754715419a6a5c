"""`GET /v1/submissions/{idempotency_key}`: what became of an entry an agency put on the bus."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path

from korpu_runtime.http import Problem
from referral.adapters import audit
from referral.entrypoints import http as referral_http
from referral.service_layer import submissions

NOT_YET = (404, "Nothing received with this key for this organization (yet)")
api = APIRouter(prefix="/v1", tags=["referrals"])


@api.get(
    "/submissions/{idempotency_key}",
    responses=referral_http.problems(
        referral_http.UNAUTHORIZED, referral_http.CANNOT_READ, NOT_YET
    ),
)
async def read_submission(
    idempotency_key: Annotated[str, Path(max_length=200)],
    service: referral_http.ServiceDep,
    caller: referral_http.Reader,
) -> dict[str, Any]:
    """`accepted` with the referral's id and status, or `rejected` naming the bad fields.

    For agency systems on the bus, which may only add to the intake stream and so
    never read its replies. A 404 may only mean the entry is not processed yet.
    """
    actor = audit.of(caller)
    found = await service.db.run(lambda conn: submissions.outcome(conn, actor, idempotency_key))
    if found is None:
        raise Problem(
            404, "Not found", "Nothing received with this Idempotency-Key for this organization."
        )
    return found
