"""The case workers' API of every provider: the directory and its use, its capacity by
region, the tasks (one, or what changed since), and what a case worker does to a task.

Every route asks for a key of one of the provider's organizations holding the
route's scope (korpu_runtime.provider_access names them) and leaves an entry in
the provider's audit trail, in the transaction of the change it records, a
refused action included.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse
from pydantic import AwareDatetime
from sqlalchemy.engine import Connection

from korpu_contracts import capacity as capacity_contract
from korpu_contracts import providers
from korpu_contracts.vocabulary import TaskStatus
from korpu_provider import capacity, cursor, views
from korpu_provider.actions import Action, NotAllowed, TransferRefused, allowed_from
from korpu_provider.handlers import AnyProvider, Handlers, UnknownTask
from korpu_runtime import problems
from korpu_runtime import provider_access as access
from korpu_runtime.api_keys import Principal
from korpu_runtime.http import problem
from korpu_runtime.service import Service
from korpu_runtime.unit_of_work import UnitOfWork

# A page of `GET /v1/tasks`: 50 unless asked, at most 200 (README, Case workers).
PAGE = 50
MAX_PAGE = 200

# What each action is recorded as in the audit trail.
RECORDED = {
    Action.ARRIVED: access.TASK_ARRIVED,
    Action.NOT_ARRIVED: access.TASK_NOT_ARRIVED,
    Action.DECLINE: access.TASK_DECLINED,
    Action.TRANSFER: access.TASK_TRANSFERRED,
}


def router(provider: AnyProvider, handlers: Handlers, service: Service) -> APIRouter:
    keys = provider.schema.access
    api = APIRouter(prefix="/v1", tags=[str(provider.service)])
    reads_directory = Depends(keys.authorized(access.DIRECTORY_READ))
    reads_tasks = Depends(keys.authorized(access.TASKS_READ))
    acts = Depends(keys.authorized(access.TASKS_ACT))

    def task_view(conn: Connection, task_id: str) -> dict[str, Any] | None:
        return views.task(provider, conn, task_id)

    async def act(
        action: Action,
        task_id: str,
        request: Request,
        who: Principal,
        change: Callable[[UnitOfWork], None],
        **recorded: str,
    ) -> dict[str, Any] | JSONResponse:
        """Run one action with its audit entry in its transaction; a refusal is recorded too."""

        def run(uow: UnitOfWork) -> None:
            change(uow)
            keys.record(uow.conn, who, request, RECORDED[action], task_id, **recorded)

        def refused(why: str, known: bool) -> Callable[[Connection], None]:
            # The task id only for a task the provider holds (provider_access).
            subject = task_id if known else None
            return lambda conn: keys.record(
                conn,
                who,
                request,
                access.TASK_ACTION_REFUSED,
                subject,
                attempted=action,
                outcome=why,
            )

        try:
            await service.transaction(run)
        except UnknownTask:
            await service.db.run(refused("unknown_task", known=False))
            return _not_found()
        except NotAllowed as wrong:
            await service.db.run(refused("not_allowed", known=True))
            detail = f"The task is {wrong.status}; {action} is allowed from {allowed_from(action)}."
            return problem(
                409, "Not allowed from the task's status", detail, status_now=wrong.status
            )
        except TransferRefused as no:
            await service.db.run(refused(no.why, known=True))
            return problem(409, "Transfer refused", _TRANSFER_REFUSED[no.why], refused=no.why)
        view = await service.db.run(lambda conn: task_view(conn, task_id))
        assert view is not None
        return view

    @api.get(
        f"/{provider.directory_route}",
        name=provider.directory_route,
        responses=access.DIRECTORY_RESPONSES,
    )
    async def directory(request: Request, who: Principal = reads_directory) -> list[dict[str, Any]]:
        return await service.db.run(
            lambda conn: keys.directory(conn, who, request, provider.directory_view)
        )

    @api.get("/capacity", responses=access.CAPACITY_RESPONSES)
    async def capacity_by_region(
        request: Request, who: Principal = reads_directory
    ) -> capacity_contract.Capacity:
        """Capacity, places taken and free, and people waiting, by region: counts only."""

        def read(conn: Connection) -> capacity_contract.Capacity:
            # Recorded as every read through the API is, though it names no one: the
            # trail then tells who looked at what, the console's key included.
            # Rejected: leaving it out as /metrics is, which is a scraper's, not a key's.
            keys.record(conn, who, request, access.CAPACITY_VIEWED)
            return capacity.by_region(provider, conn)

        return await service.db.run(read)

    @api.get("/tasks", response_model=None, responses=access.LIST_RESPONSES)
    async def tasks(
        request: Request,
        status: TaskStatus | None = None,
        updated_after: AwareDatetime | None = None,
        after: Annotated[str | None, Query(alias="cursor")] = None,
        limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = PAGE,
        who: Principal = reads_tasks,
    ) -> dict[str, Any] | JSONResponse:
        """The tasks changed since (`updated_after`, or the `cursor` a page gave), oldest
        change first, in (updated_at, task_id) order: a task changed again shows again,
        one unchanged never does. Poll with the last `next_cursor`; `more` says a page
        is waiting now."""
        try:
            place = None if after is None else cursor.decode(after)
        except cursor.InvalidCursor:
            detail = "The cursor is not one a page of this list gave."
            return problem(problems.BAD_REQUEST, "Invalid cursor", detail)

        def read(conn: Connection) -> dict[str, Any]:
            page = views.changed(
                provider, conn, after=place, since=updated_after, status=status, limit=limit
            )
            keys.record(conn, who, request, access.TASKS_LISTED, count=len(page["tasks"]))
            return page

        return await service.db.run(read)

    @api.get("/tasks/{task_id}", response_model=None, responses=access.TASK_RESPONSES)
    async def task(
        task_id: str, request: Request, who: Principal = reads_tasks
    ) -> dict[str, Any] | JSONResponse:
        view = await service.db.run(lambda conn: keys.task(conn, who, request, task_id, task_view))
        return _not_found() if view is None else view

    @api.post("/tasks/{task_id}/complete", response_model=None, responses=access.ACT_RESPONSES)
    async def complete(
        task_id: str, body: providers.Completion, request: Request, who: Principal = acts
    ) -> dict[str, Any] | JSONResponse:
        """The help ended with an outcome (from accepted or in-progress)."""
        outcome = str(body.outcome)

        def end(uow: UnitOfWork) -> None:
            handlers.complete(uow, task_id, outcome)
            keys.completed(uow.conn, who, request, task_id, outcome)

        try:
            await service.transaction(end)
        except UnknownTask:
            await service.db.run(lambda c: keys.completion_refused(c, who, request, "unknown_task"))
            return _not_found()
        except NotAllowed as refused:
            await service.db.run(
                lambda c: keys.completion_refused(c, who, request, "not_accepted", task_id)
            )
            allowed = allowed_from(Action.COMPLETE)
            detail = f"The task is {refused.status}; only a task {allowed} can be completed."
            return problem(409, "Task not accepted", detail, status_now=refused.status)
        view = await service.db.run(lambda conn: task_view(conn, task_id))
        assert view is not None
        return view

    @api.post("/tasks/{task_id}/arrived", response_model=None, responses=access.ACT_RESPONSES)
    async def arrived(
        task_id: str, request: Request, who: Principal = acts
    ) -> dict[str, Any] | JSONResponse:
        """The person came: accepted becomes in-progress."""
        change = lambda uow: handlers.arrived(uow, task_id)  # noqa: E731
        return await act(Action.ARRIVED, task_id, request, who, change)

    @api.post("/tasks/{task_id}/not-arrived", response_model=None, responses=access.ACT_RESPONSES)
    async def not_arrived(
        task_id: str, body: providers.NotArrived, request: Request, who: Principal = acts
    ) -> dict[str, Any] | JSONResponse:
        """The person never came: accepted becomes failed, and the place goes to the next."""
        reason = body.reason
        change = lambda uow: handlers.not_arrived(uow, task_id, reason)  # noqa: E731
        return await act(Action.NOT_ARRIVED, task_id, request, who, change, reason=reason)

    @api.post("/tasks/{task_id}/decline", response_model=None, responses=access.ACT_RESPONSES)
    async def decline(
        task_id: str, body: providers.Decline, request: Request, who: Principal = acts
    ) -> dict[str, Any] | JSONResponse:
        """The provider or the person said no (from on-hold or accepted): rejected."""
        reason = body.reason
        change = lambda uow: handlers.decline(uow, task_id, reason)  # noqa: E731
        return await act(Action.DECLINE, task_id, request, who, change, reason=reason)

    @api.post("/tasks/{task_id}/transfer", response_model=None, responses=access.TRANSFER_RESPONSES)
    async def transfer(
        task_id: str, body: providers.Transfer, request: Request, who: Principal = acts
    ) -> dict[str, Any] | JSONResponse:
        """To another entry of this provider, with room, that the provider's rules would give
        the person; the status stays and the old place goes to the next."""
        change = lambda uow: handlers.transfer(uow, task_id, body.to)  # noqa: E731
        return await act(Action.TRANSFER, task_id, request, who, change)

    return api


_TRANSFER_REFUSED = {
    TransferRefused.UNKNOWN_ENTRY: "No entry of the directory has that name.",
    TransferRefused.SAME_ENTRY: "The task is already there.",
    TransferRefused.NOT_SUITED: "The provider's rules would not give the person a place there.",
    TransferRefused.NO_ROOM: "It has no room now.",
}


def _not_found() -> JSONResponse:
    return problem(404, "Not found", "No such task.")
