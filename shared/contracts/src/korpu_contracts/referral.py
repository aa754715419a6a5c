"""Events the referral service publishes: intake answers, task requests, status for agencies."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, ClassVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from korpu_contracts import regions, tolerant, vocabulary
from korpu_contracts.envelope import Payload


class FieldError(BaseModel):
    """One bad field: its dotted path and what is wrong. Never the value sent."""

    # Nested in events, read by agency systems: tolerant, so an added field never breaks them.
    model_config = ConfigDict(extra="ignore", frozen=True)

    field: str
    message: str


class ReferralAccepted(Payload):
    """An intake entry became a referral (stream `streams.INTAKE_REPLIES`)."""

    TYPE: ClassVar[str] = "korpu.referral.accepted"

    organization_id: str
    idempotency_key: str
    agency_reference: str
    referral_id: str


class ReferralRejected(Payload):
    """An intake entry was refused; it is kept by the referral service, not dropped."""

    TYPE: ClassVar[str] = "korpu.referral.rejected"

    organization_id: str | None = None
    idempotency_key: str | None = None
    intake_entry_id: str
    errors: list[FieldError] = Field(min_length=1)


class TaskRequestedV1(Payload):
    """Version 1 of the task request: `region` as the agency wrote it ("Baku").

    Read through `upcast_task_requested_v1` as version 2, its region turned into
    the code it names, so a request sent before an upgrade is placed as one sent after.

    Coarse attributes only: what the provider needs to decide, nothing that
    identifies the person. `age_years` is whole years (None when unknown) because
    programs set a minimum age.
    """

    TYPE: ClassVar[str] = "korpu.task.requested"

    task_id: str
    referral_id: str
    service: vocabulary.Service
    region: str
    is_child: bool
    sex: tolerant.Sex
    age_years: int | None = None
    languages: list[str] = Field(default_factory=list)
    accompanying_children: int = 0
    pregnant: bool = False
    disability: bool = False
    safety_risk: tolerant.SafetyRisk = vocabulary.SafetyRisk.UNKNOWN


class TaskRequested(TaskRequestedV1):
    """Ask one receiving service to act for a case (stream `streams.REQUESTS_BY_SERVICE`).

    Coarse attributes only: what the provider needs to decide, nothing that
    identifies the person. `age_years` is whole years (None when unknown) because
    programs set a minimum age.

    Version 2: `region` is an ISO 3166-2 code (`regions`). A new version because
    a version 1 reader compares it with its directory's names, and would read
    "AZ-BA" as another region than its "Baku": providers are upgraded before the
    referral service (README, Upgrading).
    """

    VERSION: ClassVar[int] = 2

    # Where the help is needed: the region of the referral, or where the shelter
    # housed the person (docs/domain.md). A name is read as its code, so a reader
    # built before codes, or a test, may still write one.
    region: Annotated[str, AfterValidator(regions.code_or_as_sent)]


def upcast_task_requested_v1(data: dict[str, Any]) -> dict[str, Any]:
    """Version 1 to 2: the region's name as the code it names (unknown: kept as written)."""
    region = data.get("region")
    if not isinstance(region, str):
        return data  # the model refuses it, naming the field
    return {**data, "region": regions.code_or_as_sent(region)}


class TaskCancelled(Payload):
    """The referrer or the person revoked a task; the provider frees what it held."""

    TYPE: ClassVar[str] = "korpu.task.cancelled"

    task_id: str
    referral_id: str
    service: vocabulary.Service
    reason: tolerant.Reason = vocabulary.Reason.WITHDRAWN


class ServiceAnswer(BaseModel):
    # Nested in events, read by agency systems: tolerant, so an added field never breaks them.
    model_config = ConfigDict(extra="ignore", frozen=True)

    status: tolerant.TaskStatus
    reason: tolerant.Reason | None = None
    detail: dict[str, str | int | bool | None] = Field(default_factory=dict)


class ReferralStatusChanged(Payload):
    """A referral's coordinated status for its agency (stream `streams.REFERRAL_STATUS`)."""

    TYPE: ClassVar[str] = "korpu.referral.status_changed"

    referral_id: str
    organization_id: str
    agency_reference: str
    status: tolerant.ReferralStatus
    # A value added after the reader was built (`tolerant`): an answer of a service it
    # does not know, a consent of a purpose or kind it does not know (read as not
    # given), a flag it does not know, each left out; a status, kept as `Unknown`.
    services: Annotated[
        dict[vocabulary.Service, ServiceAnswer], tolerant.Skipped(vocabulary.Service)
    ]
    # Present when the change is about consent or a flag (null otherwise): consent
    # per purpose as now given, and the flags still open (`vocabulary.Flag`).
    consent: (
        Annotated[
            dict[vocabulary.Purpose, vocabulary.Consent],
            tolerant.Skipped(vocabulary.Purpose, vocabulary.Consent),
        ]
        | None
    ) = None
    flags: Annotated[list[vocabulary.Flag], tolerant.Skipped(vocabulary.Flag)] | None = None


class Escalated(Payload):
    """A case entered the national coordinator's Action needed queue (stream
    `streams.ESCALATIONS`): once per item, when the sweep first finds it.

    No personal data: the case id, why, which service, since when. `since` is
    when the wait began (a task requested, put on a waitlist, a review raised);
    `due` the deadline passed or coming (a response deadline, a band, the end of
    the recovery period), null when there is none.
    """

    TYPE: ClassVar[str] = "korpu.referral.escalated"

    referral_id: str
    kind: tolerant.ActionNeeded
    service: tolerant.Service | None = None
    since: dt.datetime
    due: dt.datetime | None = None
