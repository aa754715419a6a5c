"""What the national coordinator's API answers and takes: no personal data in any of it."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from korpu_contracts.vocabulary import ActionNeeded, Identification
from referral.adapters import case_index, recognition
from referral.domain import action_needed as rules_of
from referral.domain import recognition as recognition_rules
from referral.service_layer import duplicate_review


class IdentificationShown(BaseModel):
    status: Identification
    decided_on: dt.date | None = Field(description="the competent authority's decision; null")


class RecoveryShown(BaseModel):
    ends_on: dt.date | None = Field(description="the last day of the period")


class Organization(BaseModel):
    id: str
    name: str


class CaseLine(BaseModel):
    """One case of the list: no name, birth date, phone or note, ever."""

    id: str
    organization: Organization
    agency_reference: str
    status: str
    region: str
    received_at: dt.datetime
    flags: list[case_index.CaseFlag]
    waiting_since: dt.datetime | None = Field(
        description="when the case was received, while a service has not yet given its help "
        "(a task requested or on a waitlist); null when none waits"
    )
    waiting_seconds: float | None
    identification: IdentificationShown
    recovery_period: RecoveryShown


class CasePage(BaseModel):
    cases: list[CaseLine]
    next_cursor: str | None = Field(description="pass as `cursor` for the next page; null: last")


class Extension(BaseModel):
    days: int
    reason: recognition_rules.ExtensionReason
    ends_on: dt.date
    extended_at: dt.datetime


class CaseDetail(CaseLine):
    """The case's line, what its organization sees of it, and its period's extensions."""

    view: dict[str, Any] = Field(description="the agency's view (`GET /v1/referrals/{id}`)")
    recovery_extensions: list[Extension]
    action_needed: list[QueueItem]


class QueueItem(BaseModel):
    kind: ActionNeeded
    referral_id: str
    service: str | None = None
    since: dt.datetime = Field(description="when the wait began")
    due: dt.datetime | None = Field(description="the limit passed or coming; null when none")
    band_days: int | None = Field(default=None, description="the waitlist band passed")


class Queue(BaseModel):
    items: list[QueueItem]
    counted: str


class IdentificationDecision(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: Literal["identified", "not_identified"]
    decided_on: dt.date = Field(description="the date of the competent authority's decision")


class RecoveryExtension(BaseModel):
    model_config = ConfigDict(extra="forbid")

    extend_days: int = Field(ge=1, le=recognition_rules.MOST_EXTENSION_DAYS)
    reason: recognition_rules.ExtensionReason = Field(
        description="a code: free text could hold personal data"
    )


class DuplicateResolution(BaseModel):
    model_config = ConfigDict(extra="forbid")

    resolution: duplicate_review.Resolution


CaseDetail.model_rebuild()

QUEUE_COUNTED = (
    "Tasks unanswered past their service's response deadline; people at high risk on the "
    "housing service's waitlist; waitlists past a band; referrals matched to another "
    "organization's open case; children come of age with their case open; recovery periods "
    "ending within days. An item leaves the queue once acted on."
)


def line(case: case_index.Case, now: dt.datetime) -> CaseLine:
    row = case.row
    received = utc(row.created_at)
    return CaseLine(
        id=row.id,
        organization=Organization(id=row.organization_id, name=case.organization_name),
        agency_reference=row.agency_reference,
        status=row.status,
        region=row.region,
        received_at=received,
        flags=case.flags,
        waiting_since=received if case.waiting else None,
        waiting_seconds=(now - received).total_seconds() if case.waiting else None,
        **recognition.shown(row),
    )


def item(item: rules_of.Item) -> QueueItem:
    return QueueItem(
        kind=item.kind,
        referral_id=item.referral_id,
        service=item.service,
        since=item.since,
        due=item.due,
        band_days=item.band_days,
    )


def utc(at: dt.datetime) -> dt.datetime:
    return at.astimezone(dt.UTC) if at.tzinfo else at.replace(tzinfo=dt.UTC)
