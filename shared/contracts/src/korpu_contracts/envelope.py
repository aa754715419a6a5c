"""The event envelope: CloudEvents-style attributes around one typed, versioned payload."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any, ClassVar, Literal, Self

from pydantic import BaseModel, ConfigDict, Field


def source_of(service: str) -> str:
    """The `source` of every event a Körpü service publishes, as its readers check it."""
    return f"korpu/{service}"


class Payload(BaseModel):
    """Base of every event payload.

    Publishers are strict (unknown fields are refused when building an event);
    readers are tolerant (see `Envelope.payload`, which ignores unknown fields so
    an added optional field never breaks an older reader).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    TYPE: ClassVar[str]
    VERSION: ClassVar[int] = 1
    # True only for the intake command, which carries a person to the referral
    # service and is deleted from its stream once stored. No other event may.
    CARRIES_PERSONAL_DATA: ClassVar[bool] = False


class Envelope(BaseModel):
    """One stream entry. `subject` is the pseudonymous case (referral) id."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    specversion: Literal["1.0"] = "1.0"
    # Required: a reader must never invent an id, or a redelivery would pass the inbox.
    id: str = Field(min_length=1, max_length=64)
    type: str = Field(min_length=1, max_length=120)
    dataschemaversion: int = Field(ge=1)
    source: str = Field(min_length=1, max_length=120)
    time: datetime
    subject: str = Field(min_length=1, max_length=64)
    correlationid: str = Field(min_length=1, max_length=64)
    causationid: str | None = Field(default=None, max_length=64)
    datacontenttype: Literal["application/json"] = "application/json"
    data: dict[str, Any]

    @classmethod
    def wrap(
        cls,
        payload: Payload,
        *,
        source: str,
        subject: str,
        correlationid: str | None = None,
        causationid: str | None = None,
    ) -> Self:
        """Build the envelope of a new event; the correlation id defaults to the subject."""
        return cls(
            id=str(uuid.uuid4()),
            type=payload.TYPE,
            dataschemaversion=payload.VERSION,
            source=source,
            time=datetime.now(UTC),
            subject=subject,
            correlationid=correlationid or subject,
            causationid=causationid,
            data=payload.model_dump(mode="json"),
        )

    def caused(self, payload: Payload, *, source: str, subject: str | None = None) -> Envelope:
        """An event caused by this one (causation = this id).

        About the same case: same subject and correlation. About another case (a
        bed freed by one person going to the next): that case's own subject and
        correlation, so one person's event is never filed under another's case.
        """
        if subject is not None and subject != self.subject:
            return Envelope.wrap(payload, source=source, subject=subject, causationid=self.id)
        return Envelope.wrap(
            payload,
            source=source,
            subject=self.subject,
            correlationid=self.correlationid,
            causationid=self.id,
        )

    def to_json(self) -> str:
        return self.model_dump_json()

    @classmethod
    def from_json(cls, raw: str | bytes) -> Envelope:
        return cls.model_validate_json(raw)
