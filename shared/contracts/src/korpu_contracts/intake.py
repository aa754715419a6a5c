"""What an agency sends: the referral body (HTTP and intake stream) and the intake command."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Annotated, ClassVar

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from korpu_contracts import vocabulary
from korpu_contracts.envelope import Payload

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
LanguageCode = Annotated[str, StringConstraints(pattern=r"^[a-z]{2,3}$")]
Region = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=60)]


class Exploitation(StrEnum):
    """Extensible typology (DOMAIN.md): add a member, never rename one."""

    LABOUR = "labour"
    SEXUAL = "sexual"
    FORCED_CRIMINALITY = "forced_criminality"
    BEGGING = "begging"
    DOMESTIC_SERVITUDE = "domestic_servitude"
    FORCED_MARRIAGE = "forced_marriage"
    ORGAN_REMOVAL = "organ_removal"
    OTHER = "other"


class _Strict(BaseModel):
    # An unknown field is refused, so a misspelt one is never silently dropped.
    model_config = ConfigDict(extra="forbid", frozen=True)


class Person(_Strict):
    """Personal data: it never leaves the referral service."""

    given_name: Name
    family_name: Name
    date_of_birth: dt.date | None = None
    age_estimate: int | None = Field(default=None, ge=0, le=120)
    possibly_minor: bool = False
    sex: vocabulary.Sex
    languages: list[LanguageCode] = Field(default_factory=list, max_length=10)
    nationality: Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")] | None = None
    contact_phone: Annotated[str, StringConstraints(max_length=32)] | None = None

    @field_validator("date_of_birth")
    @classmethod
    def _not_in_future(cls, value: dt.date | None) -> dt.date | None:
        if value is not None and value > dt.date.today():
            raise ValueError("date of birth is in the future")
        return value


class Circumstances(_Strict):
    exploitation: list[Exploitation] = Field(default_factory=list, max_length=10)
    accompanying_children: int = Field(default=0, ge=0, le=20)
    pregnant: bool = False
    disability: bool = False
    safety_risk: vocabulary.SafetyRisk = vocabulary.SafetyRisk.UNKNOWN


class ReferralRequest(_Strict):
    """The body of `POST /v1/referrals`, exactly as the agency-facing contract gives it."""

    agency_reference: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)
    ]
    person: Person
    region: Region
    needs: list[vocabulary.Service] = Field(min_length=1, max_length=len(vocabulary.Service))
    consent: dict[vocabulary.Service, vocabulary.Consent] = Field(default_factory=dict)
    circumstances: Circumstances = Field(default_factory=Circumstances)
    notes: Annotated[str, StringConstraints(max_length=4000)] | None = None

    @field_validator("needs")
    @classmethod
    def _needs_unique(cls, value: list[vocabulary.Service]) -> list[vocabulary.Service]:
        if len(set(value)) != len(value):
            raise ValueError("a need is listed twice")
        return value


class SubmitReferral(Payload):
    """An agency system on the bus submits a referral (stream `streams.INTAKE`).

    The one message that carries a person: it travels only to the referral
    service, which deletes the stream entry once the referral is stored.
    """

    TYPE: ClassVar[str] = "korpu.referral.submit"
    CARRIES_PERSONAL_DATA: ClassVar[bool] = True

    organization_id: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    idempotency_key: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    referral: ReferralRequest
