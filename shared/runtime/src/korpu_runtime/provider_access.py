"""Who may use a provider's case workers' API, and the trail of what they did.

Every provider (shelter, employment, legal aid, ...) keeps its own organizations and
API keys in its own database (`korpu org create NAME --provider shelter`), so a
provider checks a key itself, with no call to another service, and a key of one
provider, or an agency's key of the referral service, means nothing to another.

Scopes (a new organization's first key holds all three; docs/api-keys.md):
- `directory:read`: the directory and its use (facilities and occupancy, programs
  and seats, lawyers and caseloads), and its capacity by region (counts only: the
  operators' console holds a key with this scope alone, docs/capacity.md);
- `tasks:read`: one task's state (which referral it serves, where it stands), and the
  tasks changed since (`GET /v1/tasks`);
- `tasks:act`: what changes a task (`POST /v1/tasks/{id}/complete`: a discharge, a
  program completed, a case ended; `arrived`, `not-arrived`, `decline`, `transfer`).
  Apart from reading, so a screen that follows tasks never holds a key that can
  discharge a person.

Every read and action through the API, and every key refused for its scope, is in
the provider's audit trail (`audit_log`, append-only): the key's id and
organization, the route, the task. The task id is written only for a task the
provider holds: an id a caller made up stays out of the trail.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable
from typing import Any

import sqlalchemy as sa
from fastapi import Request
from sqlalchemy.engine import Connection

from korpu_runtime import api_keys, audit, authorization

DIRECTORY_READ = "directory:read"
TASKS_READ = "tasks:read"
TASKS_ACT = "tasks:act"
SCOPES = (DIRECTORY_READ, TASKS_READ, TASKS_ACT)
DEFAULT_SCOPES = SCOPES

# What was done, past tense like the referral service's trail.
DIRECTORY_VIEWED = "directory_viewed"
CAPACITY_VIEWED = "capacity_viewed"
TASK_VIEWED = "task_viewed"
TASKS_LISTED = "tasks_listed"
TASK_COMPLETED = "task_completed"
# A completion refused (an unknown task, one not accepted): detail says which.
TASK_COMPLETION_REFUSED = "task_completion_refused"
TASK_ARRIVED = "task_arrived"
TASK_NOT_ARRIVED = "task_not_arrived"
TASK_DECLINED = "task_declined"
TASK_TRANSFERRED = "task_transferred"
# Any other action refused (an unknown task, a status it does not start from, a
# transfer the directory cannot make): detail names the action and why.
TASK_ACTION_REFUSED = "task_action_refused"
# A known key without the route's scope.
ACCESS_DENIED = "access_denied"
# The subject column: a task id, as long as the providers' own `tasks.task_id`.
SUBJECT = "task_id"
SUBJECT_LENGTH = 64


@dataclasses.dataclass(frozen=True)
class ProviderAccess:
    """One provider's keyring and audit trail, in its own database."""

    keyring: api_keys.Keyring
    trail: audit.Trail

    def authorized(self, scope: str) -> Callable[..., Awaitable[api_keys.Principal]]:
        return authorization.authorized(self.keyring, scope, self._refused)

    def record(
        self,
        conn: Connection,
        who: api_keys.Principal,
        request: Request,
        action: str,
        task_id: str | None = None,
        **detail: Any,
    ) -> None:
        """One entry in the provider's trail, in the caller's transaction."""
        self.trail.record(conn, audit.of(who), action, task_id, {"route": route(request), **detail})

    def directory(
        self,
        conn: Connection,
        who: api_keys.Principal,
        request: Request,
        view: Callable[[Connection], list[dict[str, Any]]],
    ) -> list[dict[str, Any]]:
        """The directory's view, its reading recorded."""
        self.record(conn, who, request, DIRECTORY_VIEWED)
        return view(conn)

    def task(
        self,
        conn: Connection,
        who: api_keys.Principal,
        request: Request,
        task_id: str,
        view: Callable[[Connection, str], dict[str, Any] | None],
    ) -> dict[str, Any] | None:
        """One task's view (None for a task the provider does not hold), its reading recorded."""
        found = view(conn, task_id)
        if found is None:
            self.record(conn, who, request, TASK_VIEWED, outcome="not_found")
        else:
            self.record(conn, who, request, TASK_VIEWED, task_id)
        return found

    def completed(
        self,
        conn: Connection,
        who: api_keys.Principal,
        request: Request,
        task_id: str,
        outcome: str,
    ) -> None:
        """Recorded in the completion's own transaction: no discharge without its entry."""
        self.record(conn, who, request, TASK_COMPLETED, task_id, outcome=outcome)

    def completion_refused(
        self,
        conn: Connection,
        who: api_keys.Principal,
        request: Request,
        why: str,
        task_id: str | None = None,
    ) -> None:
        """A completion answered 404 (`task_id` None: not the caller's text) or 409."""
        self.record(conn, who, request, TASK_COMPLETION_REFUSED, task_id, outcome=why)

    def _refused(
        self, conn: Connection, who: api_keys.Principal, scope: str, request: Request
    ) -> None:
        self.record(conn, who, request, ACCESS_DENIED, missing_scope=scope)


def _problems(*answers: tuple[int, str]) -> dict[int | str, dict[str, Any]]:
    content = {"application/problem+json": {"schema": {"type": "object"}}}
    return {status: {"description": text, "content": content} for status, text in answers}


def _keyed(scope: str) -> tuple[tuple[int, str], ...]:
    return (401, "No API key, or an unknown or revoked one"), (403, f"A key without `{scope}`")


_NO_SUCH_TASK = (404, "No such task at this provider")
# The problem documents each route answers, for the OpenAPI document.
DIRECTORY_RESPONSES = _problems(*_keyed(DIRECTORY_READ))
CAPACITY_RESPONSES = DIRECTORY_RESPONSES
TASK_RESPONSES = _problems(*_keyed(TASKS_READ), _NO_SUCH_TASK)
LIST_RESPONSES = _problems(
    (400, "A cursor that is not one a page gave"),
    *_keyed(TASKS_READ),
    (422, "An invalid query naming every bad parameter"),
)
ACT_RESPONSES = _problems(
    *_keyed(TASKS_ACT),
    _NO_SUCH_TASK,
    (409, "The task's status does not allow the action"),
    (422, "An invalid body naming every bad field"),
)
TRANSFER_RESPONSES = _problems(
    *_keyed(TASKS_ACT),
    _NO_SUCH_TASK,
    (409, "The task's status does not allow a transfer, or the entry has no room or does not suit"),
    (422, "An invalid body naming every bad field"),
)


def add_tables(metadata: sa.MetaData) -> ProviderAccess:
    """The provider's organizations, keys and audit trail, in its own metadata."""
    keyring = api_keys.Keyring(api_keys.add_tables(metadata), SCOPES, DEFAULT_SCOPES)
    table = audit.add_table(metadata, subject=SUBJECT, subject_length=SUBJECT_LENGTH)
    return ProviderAccess(keyring, audit.Trail(table, SUBJECT))


def route(request: Request) -> str:
    """The method and the route's template (`/v1/tasks/{task_id}`), never the path sent."""
    template = getattr(request.scope.get("route"), "path", "?")
    return f"{request.method} {template}"
