"""What a case worker may do to a task, from which statuses, and how a refusal is said.

A case worker's actions, each allowed from a few statuses only (`ALLOWED`):

| action | from | to |
| --- | --- | --- |
| arrived | accepted | in-progress |
| not arrived | accepted | failed (`client_unreachable` or `other`), the place freed |
| decline | on-hold, accepted | rejected (`provider_declined` / `client_declined`), a place freed |
| complete | accepted, in-progress | completed, the place freed when `completion_frees` |
| transfer | accepted, in-progress | the same status at another entry; the old place freed |

Declining is before the help starts (FHIR's `rejected`: the performer, or here the
person, said no before any action); a person who leaves once helped is completed
with the outcome `left_voluntarily`. Rejected: declining an in-progress task, which
would report help given as help refused. `requested` is never committed (a request
is decided in the transaction that stores it), so no action starts from it.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum

from korpu_contracts.vocabulary import TaskStatus
from korpu_provider.tasks import HOLDING


class Action(StrEnum):
    """What a case worker does to a task (`POST /v1/tasks/{id}/<action>`)."""

    ARRIVED = "arrived"
    NOT_ARRIVED = "not-arrived"
    DECLINE = "decline"
    COMPLETE = "complete"
    TRANSFER = "transfer"


# The statuses each action starts from (the module's table).
ALLOWED: Mapping[Action, frozenset[TaskStatus]] = {
    Action.ARRIVED: frozenset({TaskStatus.ACCEPTED}),
    Action.NOT_ARRIVED: frozenset({TaskStatus.ACCEPTED}),
    Action.DECLINE: frozenset({TaskStatus.ON_HOLD, TaskStatus.ACCEPTED}),
    Action.COMPLETE: HOLDING,
    Action.TRANSFER: HOLDING,
}


class NotAllowed(Exception):
    """The action does not start from the task's status."""

    def __init__(self, action: Action, status: TaskStatus) -> None:
        super().__init__(f"the task is {status}; {action} starts from {allowed_from(action)}")
        self.action = action
        self.status = status


class NotAccepted(NotAllowed):
    """Only a task holding a place (accepted or in progress) can be completed."""

    def __init__(self, status: TaskStatus) -> None:
        super().__init__(Action.COMPLETE, status)


class TransferRefused(Exception):
    """A transfer the directory cannot make; `why` is a code, told to the case worker."""

    UNKNOWN_ENTRY = "unknown_entry"
    SAME_ENTRY = "same_entry"
    NOT_SUITED = "not_suited"  # the provider's rules would never place the person there
    NO_ROOM = "no_room"

    def __init__(self, why: str, reason: str | None = None) -> None:
        super().__init__(why)
        self.why = why
        # The domain's reason when the entry does not suit the person (`not_eligible`).
        self.reason = reason


def allowed_from(action: Action) -> str:
    return ", ".join(sorted(str(status) for status in ALLOWED[action]))
