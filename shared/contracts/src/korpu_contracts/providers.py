"""Events every receiving service (shelter, employment, legal aid) publishes."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from korpu_contracts import vocabulary
from korpu_contracts.envelope import Payload


class TaskUpdated(Payload):
    """A provider's answer about one task (stream `streams.TASK_UPDATES`).

    `detail` says what was given (facility and region, program, lawyer, waitlist
    position, interpreter needed), never anything about another person.
    """

    TYPE: ClassVar[str] = "korpu.task.updated"

    task_id: str
    referral_id: str
    service: vocabulary.Service
    status: vocabulary.TaskStatus
    reason: vocabulary.Reason | None = None
    detail: dict[str, str | int | bool | None] = Field(default_factory=dict)
