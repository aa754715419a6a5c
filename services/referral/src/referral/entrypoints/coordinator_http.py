"""The national coordinator's API (`/v1/coordinator/...`), for keys holding `cases:coordinate`.

Across organizations, and never a person: the list, the Action needed queue and
a case's view carry ids, codes, times and the organization's name only. Every
view and decision is in the audit trail (service_layer/oversight.py).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Query, Request

from korpu_contracts.vocabulary import Identification, ReferralStatus
from korpu_runtime.http import Problem
from referral.adapters import audit, case_index
from referral.domain import action_needed as rules_of
from referral.domain import exceptions
from referral.domain import recognition as recognition_rules
from referral.entrypoints import coordinator_answers as answers
from referral.entrypoints import http as referral_http
from referral.service_layer import duplicate_review, oversight

api = APIRouter(prefix="/v1/coordinator", tags=["coordinator"])
CANNOT_COORDINATE = (403, "An API key without the scope `cases:coordinate`")
NO_SUCH_CASE = (404, "No such referral")
INVALID = (422, "An invalid body or query, naming the field")
COMMON = (referral_http.UNAUTHORIZED, CANNOT_COORDINATE)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _rules(request: Request) -> rules_of.Rules:
    rules: rules_of.Rules = request.app.state.action_rules
    return rules


@api.get("/cases", responses=referral_http.problems(*COMMON, INVALID))
async def list_cases(
    service: referral_http.ServiceDep,
    caller: referral_http.Coordinator,
    status: Annotated[ReferralStatus | None, Query()] = None,
    region: Annotated[str | None, Query(max_length=60, description="code or name")] = None,
    agency_reference: Annotated[str | None, Query(max_length=64)] = None,
    flag: Annotated[case_index.CaseFlag | None, Query()] = None,
    identification: Annotated[Identification | None, Query()] = None,
    waiting_over_hours: Annotated[float | None, Query(gt=0)] = None,
    limit: Annotated[int, Query(ge=1, le=case_index.MOST)] = 50,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> answers.CasePage:
    """Every organization's cases, newest first: searched by agency reference, status,
    region, flag, identification and time waiting. No personal data; recorded."""
    filters = case_index.Filters(
        status=None if status is None else str(status),
        region=region,
        agency_reference=agency_reference,
        flag=flag,
        identification=None if identification is None else str(identification),
        waiting_over=None if waiting_over_hours is None else dt.timedelta(hours=waiting_over_hours),
    )
    actor, now = audit.of(caller), _now()
    try:
        found, next_cursor = await service.db.run(
            lambda conn: oversight.cases(conn, actor, filters, limit, cursor, now)
        )
    except case_index.BadCursor:
        raise Problem(
            422,
            "Invalid request",
            "`cursor` is not one this API gave.",
            errors=[{"field": "cursor", "message": "not a cursor this API gave"}],
        ) from None
    return answers.CasePage(
        cases=[answers.line(case, now) for case in found], next_cursor=next_cursor
    )


@api.get("/queue", responses=referral_http.problems(*COMMON))
async def action_needed(
    request: Request, service: referral_http.ServiceDep, caller: referral_http.Coordinator
) -> answers.Queue:
    """The Action needed queue, the longest waiting first. Recorded."""
    actor, rules, now = audit.of(caller), _rules(request), _now()
    items = await service.db.run(lambda conn: oversight.queue(conn, actor, rules, now))
    return answers.Queue(
        items=[answers.item(item) for item in items], counted=answers.QUEUE_COUNTED
    )


@api.get("/cases/{referral_id}", responses=referral_http.problems(*COMMON, NO_SUCH_CASE))
async def read_case(
    referral_id: str,
    request: Request,
    service: referral_http.ServiceDep,
    caller: referral_http.Coordinator,
) -> answers.CaseDetail:
    """One case of any organization: its line, its services and history, its period's
    extensions and its open items. No personal data; recorded."""
    return await _detail(referral_id, request, service, audit.of(caller))


async def _detail(
    referral_id: str,
    request: Request,
    service: referral_http.ServiceDep,
    actor: audit.Actor | None,
) -> answers.CaseDetail:
    """The case as now; `actor`: recorded as their view (None: the answer to their change,
    recorded with it)."""
    rules, now = _rules(request), _now()
    found = await service.db.run(lambda conn: oversight.case(conn, actor, referral_id))
    if found is None:
        raise Problem(404, "Not found", "No such referral.")
    case, view, extensions = found
    items = await service.db.run(lambda conn: oversight.queue_of(conn, referral_id, rules, now))
    return answers.CaseDetail(
        **answers.line(case, now).model_dump(),
        view=view,
        recovery_extensions=[
            answers.Extension(
                days=e.days,
                reason=recognition_rules.ExtensionReason(e.reason),
                ends_on=e.ends_on,
                extended_at=answers.utc(e.extended_at),
            )
            for e in extensions
        ],
        action_needed=[answers.item(item) for item in items],
    )


@api.post(
    "/cases/{referral_id}/identification",
    responses=referral_http.problems(*COMMON, NO_SUCH_CASE, INVALID),
)
async def record_identification(
    referral_id: str,
    body: answers.IdentificationDecision,
    request: Request,
    service: referral_http.ServiceDep,
    caller: referral_http.Coordinator,
) -> answers.CaseDetail:
    """Record the competent authority's decision: identified or not, and its date."""
    actor, status, today = audit.of(caller), Identification(body.status), _now().date()
    try:
        found = await service.transaction(
            lambda uow: oversight.identify(uow, actor, referral_id, status, body.decided_on, today)
        )
    except recognition_rules.InvalidDecision as invalid:
        raise _invalid(invalid) from None
    if not found:
        raise Problem(404, "Not found", "No such referral.")
    return await _detail(referral_id, request, service, None)


@api.post(
    "/cases/{referral_id}/recovery-period",
    responses=referral_http.problems(
        *COMMON, NO_SUCH_CASE, (409, "The case was withdrawn or closed"), INVALID
    ),
)
async def extend_recovery(
    referral_id: str,
    body: answers.RecoveryExtension,
    request: Request,
    service: referral_http.ServiceDep,
    caller: referral_http.Coordinator,
) -> answers.CaseDetail:
    """Extend the recovery and reflection period by `extend_days`, for a reason given as a code."""
    actor, today = audit.of(caller), _now().date()
    try:
        ends_on = await service.transaction(
            lambda uow: oversight.extend_recovery(
                uow, actor, referral_id, body.extend_days, body.reason, today
            )
        )
    except recognition_rules.InvalidDecision as invalid:
        raise _invalid(invalid) from None
    except exceptions.CaseEnded:
        raise Problem(409, "Case ended", "This case was withdrawn or closed.") from None
    if ends_on is None:
        raise Problem(404, "Not found", "No such referral.")
    return await _detail(referral_id, request, service, None)


@api.post(
    "/cases/{referral_id}/duplicate-resolution",
    responses=referral_http.problems(
        *COMMON,
        NO_SUCH_CASE,
        (409, "Not waiting in review, or its person's data was erased"),
        INVALID,
    ),
)
async def resolve_duplicate(
    referral_id: str,
    body: answers.DuplicateResolution,
    request: Request,
    service: referral_http.ServiceDep,
    caller: referral_http.Coordinator,
) -> answers.CaseDetail:
    """Say whether a referral matched to another organization's open case is the same
    person (closed, `duplicate`) or another (coordinated now), as `korpu duplicates` does."""
    actor = audit.of(caller)
    exists = await service.db.run(lambda conn: oversight.exists(conn, referral_id))
    if not exists:
        raise Problem(404, "Not found", "No such referral.")
    try:
        await service.transaction(
            lambda uow: duplicate_review.resolve(uow, actor, referral_id, body.resolution)
        )
    except exceptions.NotInReview:
        raise Problem(409, "Not in review", "This referral is not waiting in review.") from None
    except exceptions.CaseEnded:
        raise Problem(409, "Case ended", "This referral's person was erased.") from None
    return await _detail(referral_id, request, service, None)


def _invalid(invalid: recognition_rules.InvalidDecision) -> Problem:
    field, _, message = str(invalid).partition(": ")
    return Problem(
        422, "Invalid request", str(invalid), errors=[{"field": field, "message": message}]
    )
