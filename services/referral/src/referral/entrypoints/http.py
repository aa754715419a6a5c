"""The agency-facing HTTP API: submit, read and withdraw referrals (the agency contract, README)."""

import hashlib
import json
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

import sqlalchemy as sa
from fastapi import APIRouter, Depends, FastAPI, Header, Request, Response
from sqlalchemy.engine import Connection

from korpu_contracts import intake
from korpu_runtime import authorization
from korpu_runtime import problems as kinds
from korpu_runtime.api_keys import Principal
from korpu_runtime.http import Problem
from korpu_runtime.service import Service
from referral.adapters import audit, organizations
from referral.domain import exceptions
from referral.service_layer import audited, views

# A referral with long notes; counted as it arrives by the runtime's body limit.
MAX_BODY_BYTES = 64 * 1024


def body_hash(raw: bytes) -> str:
    """Hash of the body as JSON, so a replay with other whitespace or key order still matches."""
    canonical = json.dumps(json.loads(raw), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def install(app: FastAPI) -> None:
    # Imported here: the statistics route uses this module's dependencies.
    from referral.entrypoints import (
        consent_http,
        coordinator_http,
        intake_key_http,
        overruling_http,
        person_http,
        regions_openapi,
        statistics_http,
        submission_http,
        webhooks_http,
    )

    app.include_router(api)
    app.include_router(person_http.api)
    app.include_router(consent_http.api)
    app.include_router(statistics_http.api)
    app.include_router(submission_http.api)
    app.include_router(overruling_http.api)
    app.include_router(intake_key_http.api)
    app.include_router(coordinator_http.api)
    app.include_router(webhooks_http.api)
    regions_openapi.install(app)


async def _service(request: Request) -> Service:
    # async: FastAPI runs a plain function dependency on a thread of its pool.
    service: Service = request.app.state.service
    return service


ServiceDep = Annotated[Service, Depends(_service)]


def _lacking_scope(conn: Connection, found: Principal, scope: str, request: Request) -> None:
    referral_id = request.path_params.get("referral_id")
    audited.lacking_scope(conn, audit.of(found), scope, referral_id)


def _authorized(scope: str) -> Callable[..., Awaitable[Principal]]:
    """A dependency answering who calls (key and organization) when the key holds `scope`."""
    return authorization.authorized(organizations.KEYRING, scope, _lacking_scope)


async def _idempotency_key(idempotency_key: Annotated[str | None, Header()] = None) -> str:
    if not idempotency_key:
        raise Problem(kinds.INVALID_HEADER, detail="Send an `Idempotency-Key` header.")
    if not intake.is_idempotency_key(idempotency_key):
        rule = f"1 to {intake.IDEMPOTENCY_KEY_MAX} printable ASCII characters"
        raise Problem(
            kinds.INVALID_HEADER,
            detail=f"An `Idempotency-Key` is {rule}.",
            errors=[{"field": "Idempotency-Key", "message": rule}],
        )
    return idempotency_key


Submitter = Annotated[Principal, Depends(_authorized(organizations.SUBMIT))]
Reader = Annotated[Principal, Depends(_authorized(organizations.READ))]
Administrator = Annotated[Principal, Depends(_authorized(organizations.STATISTICS))]
PersonReader = Annotated[Principal, Depends(_authorized(organizations.PERSONS))]
Coordinator = Annotated[Principal, Depends(_authorized(organizations.COORDINATE))]
WebhookManager = Annotated[Principal, Depends(_authorized(organizations.WEBHOOKS))]
IdempotencyKey = Annotated[str, Depends(_idempotency_key)]
api = APIRouter(prefix="/v1", tags=["referrals"])


def problems(*answers: tuple[int, str]) -> dict[int | str, dict[str, Any]]:
    """The problem documents a route can answer, for the OpenAPI document."""
    content = {"application/problem+json": {"schema": {"type": "object"}}}
    return {status: {"description": text, "content": content} for status, text in answers}


UNAUTHORIZED = (401, "No API key, or an unknown or revoked one")
CANNOT_SUBMIT = (403, "An API key without the scope `referrals:submit`")
CANNOT_READ = (403, "An API key without the scope `referrals:read`")
NOT_FOUND_ANSWER = (404, "No such referral, or another organization's")
NOT_FOUND = "No such referral for this organization."


@api.post(
    "/referrals",
    status_code=202,
    responses=problems(
        (400, "No Idempotency-Key, or a body that is not JSON or repeats a key"),
        UNAUTHORIZED,
        (403, f"{CANNOT_SUBMIT[1]}, or an organization with as many open referrals as allowed"),
        (413, "A body over 64 KiB"),
        (422, "An invalid body naming every bad field, or a key reused with another body"),
    ),
)
async def submit(
    body: intake.ReferralRequest,
    request: Request,
    response: Response,
    service: ServiceDep,
    caller: Submitter,
    key: IdempotencyKey,
) -> dict[str, str]:
    """Register a referral; its plan is coordinated in the background."""
    organization_id = caller.organization_id
    actor = audit.of(caller)
    raw = await request.body()  # at most MAX_BODY_BYTES: the runtime's BodyLimit saw to it
    digest = body_hash(raw)
    try:
        try:
            submitted = await service.transaction(
                lambda uow: audited.submit(uow, actor, organization_id, key, digest, body)
            )
        except sa.exc.IntegrityError:
            # The same key raced in from another request and committed first: this
            # attempt now finds it and answers as a replay (or a conflict).
            submitted = await service.transaction(
                lambda uow: audited.submit(uow, actor, organization_id, key, digest, body)
            )
    except exceptions.OpenReferralsCap as cap:
        raise Problem(
            kinds.OPEN_REFERRALS_CAP,
            detail=f"This organization has {cap.cap} referrals open, the most it may have; "
            "a new one is taken once one closes. The operator can raise the cap.",
            max_open_referrals=cap.cap,
        ) from None
    except exceptions.IdempotencyConflict:
        raise Problem(
            kinds.IDEMPOTENCY_KEY_REUSED,
            detail="This Idempotency-Key was used with another body.",
            errors=[{"field": "Idempotency-Key", "message": "reused with another body"}],
        ) from None
    response.headers["Location"] = f"/v1/referrals/{submitted.referral_id}"
    return {"id": submitted.referral_id, "status": str(submitted.status)}


@api.get(
    "/referrals/{referral_id}", responses=problems(UNAUTHORIZED, CANNOT_READ, NOT_FOUND_ANSWER)
)
async def read(referral_id: str, service: ServiceDep, caller: Reader) -> dict[str, Any]:
    """The referral's status, each service's answer and the history."""
    actor = audit.of(caller)
    view = await service.db.run(lambda conn: audited.view(conn, actor, referral_id))
    if view is None:
        raise Problem(404, "Not found", NOT_FOUND)
    return view


@api.post(
    "/referrals/{referral_id}/withdraw",
    responses=problems(UNAUTHORIZED, CANNOT_SUBMIT, NOT_FOUND_ANSWER),
)
async def withdraw(referral_id: str, service: ServiceDep, caller: Submitter) -> dict[str, Any]:
    """Cancel every open task; reserved beds and seats go to the next person waiting."""
    organization_id = caller.organization_id
    actor = audit.of(caller)
    found = await service.transaction(lambda uow: audited.withdraw(uow, actor, referral_id))
    if not found:
        raise Problem(404, "Not found", NOT_FOUND)
    # The answer is part of the withdrawal recorded above, not a second access.
    view = await service.db.run(
        lambda conn: views.referral_view(conn, organization_id, referral_id)
    )
    assert view is not None
    return view
