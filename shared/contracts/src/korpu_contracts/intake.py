"""What an agency sends: the referral body (HTTP and intake stream) and the intake command."""

from __future__ import annotations

import datetime as dt
import unicodedata
from enum import StrEnum
from typing import Annotated, ClassVar

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    StringConstraints,
    ValidationInfo,
    field_validator,
)

from korpu_contracts import names, regions, sealed, vocabulary
from korpu_contracts.envelope import Payload


def _printable(value: str, allowed: frozenset[str] = frozenset()) -> str:
    """Refuse control characters and lone surrogates, naming neither the value nor its place.

    PostgreSQL cannot store NUL in text and no database can encode a lone
    surrogate: taking them would fail at the commit as a 500, and a terminal
    control sequence in a name would play tricks on whoever prints it. Format
    characters (Cf: the right-to-left mark an Arabic name may carry, joiners in
    emoji) are text and stay. Rejected: stripping them silently, which would
    store a name other than the one sent.
    """
    for character in value:
        if character not in allowed and unicodedata.category(character) in ("Cc", "Cs"):
            raise ValueError("control characters are not allowed")
    return value


def _printable_text(value: str) -> str:
    """Free text may break lines and tabulate."""
    return _printable(value, frozenset("\n\r\t"))


def _visible(value: str) -> str:
    """A name of zero-width characters, marks or emoji alone is no one's name (`names`)."""
    if not names.has_visible_letter(value):
        raise ValueError("a name needs at least one visible letter")
    return value


# An agency's key for one submission (HTTP `Idempotency-Key`, or the intake command's
# `idempotency_key`): stored and shown to operators, so printable ASCII only (no
# terminal escape or line break rides in on it). Checked by a validator, not a
# `pattern`, so the personal-data walk of the contracts still sees free text here.
IDEMPOTENCY_KEY_MAX = 255


def is_idempotency_key(value: str) -> bool:
    return 1 <= len(value) <= IDEMPOTENCY_KEY_MAX and all(" " <= c <= "~" for c in value)


def _idempotency_key(value: str) -> str:
    if not is_idempotency_key(value):
        raise ValueError(f"1 to {IDEMPOTENCY_KEY_MAX} printable ASCII characters")
    return value


IdempotencyKey = Annotated[
    str,
    StringConstraints(min_length=1, max_length=IDEMPOTENCY_KEY_MAX),
    AfterValidator(_idempotency_key),
]

Name = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=100),
    AfterValidator(_printable),
    AfterValidator(_visible),
]
LanguageCode = Annotated[str, StringConstraints(pattern=r"^[a-z]{2,3}$")]


def _region_code(value: str) -> str:
    """The region's ISO 3166-2 code, from the code or any name the gazetteer lists (`regions`)."""
    return regions.code_of(value)


# Stored and passed on as the code: "Bakı", "Baku", "Баку" and "AZ-BA" are one region.
Region = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=regions.MAX_LENGTH),
    AfterValidator(_printable),
    AfterValidator(_region_code),
]


class Exploitation(StrEnum):
    """Extensible typology (docs/domain.md): add a member, never rename one."""

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
    # Strict numbers and booleans: "30" or 1 is an agency's bug to report, not to guess at.
    age_estimate: StrictInt | None = Field(default=None, ge=0, le=120)
    # Whether there are reasons to believe the person is a child (CoE art. 10(3)).
    # Required when neither age field is given: the agency says, the system does not
    # guess (`_stated_without_an_age`). Absent beside an age means no such reason.
    possibly_minor: StrictBool = Field(
        default=None,
        validate_default=True,
        description="Required when neither date_of_birth nor age_estimate is given.",
    )
    sex: vocabulary.Sex
    languages: list[LanguageCode] = Field(default_factory=list, max_length=10)
    nationality: Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")] | None = None
    contact_phone: (
        Annotated[str, StringConstraints(max_length=32), AfterValidator(_printable)] | None
    ) = None

    @field_validator("possibly_minor", mode="before")
    @classmethod
    def _stated_without_an_age(cls, value: object, info: ValidationInfo) -> object:
        """No age at all: the agency must say whether the person may be a child.

        Rejected: presuming a child whenever no age is given, which housed adults
        with children and counted them as children; and presuming an adult,
        which could leave a child in an adults' shelter. An age field that was
        itself invalid is absent from `info.data`: only its own error is told.
        """
        if value is not None:
            return value
        ages = ("date_of_birth", "age_estimate")
        if all(name in info.data and info.data[name] is None for name in ages):
            raise ValueError("required when neither date_of_birth nor age_estimate is given")
        return False

    @field_validator("date_of_birth")
    @classmethod
    def _not_in_future(cls, value: dt.date | None) -> dt.date | None:
        if value is not None and value > dt.date.today():
            raise ValueError("date of birth is in the future")
        return value


class Circumstances(_Strict):
    exploitation: list[Exploitation] = Field(default_factory=list, max_length=10)
    accompanying_children: StrictInt = Field(default=0, ge=0, le=20)
    pregnant: StrictBool = False
    disability: StrictBool = False
    safety_risk: vocabulary.SafetyRisk = vocabulary.SafetyRisk.UNKNOWN


class ReferralRequest(_Strict):
    """The body of `POST /v1/referrals`, exactly as the agency-facing contract gives it."""

    agency_reference: Annotated[
        str,
        StringConstraints(strip_whitespace=True, min_length=1, max_length=64),
        AfterValidator(_printable),
    ]
    person: Person
    region: Region
    needs: list[vocabulary.Service] = Field(min_length=1, max_length=len(vocabulary.Service))
    # Per service, and `reporting` for the published statistics (absent: not given).
    consent: dict[vocabulary.Purpose, vocabulary.Consent] = Field(default_factory=dict)
    circumstances: Circumstances = Field(default_factory=Circumstances)
    notes: (
        Annotated[str, StringConstraints(max_length=4000), AfterValidator(_printable_text)] | None
    ) = None

    @field_validator("needs")
    @classmethod
    def _needs_unique(cls, value: list[vocabulary.Service]) -> list[vocabulary.Service]:
        if len(set(value)) != len(value):
            raise ValueError("a need is listed twice")
        return value


class ConsentChange(_Strict):
    """The body of `POST /v1/referrals/{id}/consent`: consent for one purpose, as now given.

    `not_required_child` is refused for a person who is an adult (checked by the
    referral service, which alone knows the age).
    """

    purpose: vocabulary.Purpose
    consent: vocabulary.Consent


class SubmitReferralV1(Payload):
    """Version 1 of the intake command: the referral in clear. Retired, refused naming why.

    Redis keeps every entry in its append-only file, replicas and backups after
    the referral service deletes it, so a person sent in clear stays readable
    there. No upcaster can seal what was sent in clear: `registry.RETIRED`.
    """

    TYPE: ClassVar[str] = "korpu.referral.submit"
    CARRIES_PERSONAL_DATA: ClassVar[bool] = True

    organization_id: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    idempotency_key: IdempotencyKey
    referral: ReferralRequest


class SubmitReferral(Payload):
    """An agency system on the bus submits a referral (stream `streams.INTAKE`).

    The one message that carries a person, sealed to the referral service's
    intake key (`sealed`): only that service reads it, and it deletes the stream
    entry once the referral is stored. The sealed body is a `ReferralRequest`.
    """

    TYPE: ClassVar[str] = "korpu.referral.submit"
    VERSION: ClassVar[int] = 2
    CARRIES_PERSONAL_DATA: ClassVar[bool] = True

    organization_id: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    idempotency_key: IdempotencyKey
    sealed_referral: sealed.SealedReferral
