"""The case workers' API of every provider: the directory and its use, its capacity by
region, a task, completing it.

Every route asks for a key of one of the provider's organizations holding the
route's scope (korpu_runtime.provider_access names them) and leaves an entry in
the provider's audit trail, a refused completion included.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from sqlalchemy.engine import Connection

from korpu_contracts import capacity as capacity_contract
from korpu_contracts import providers
from korpu_provider import capacity, views
from korpu_provider.handlers import AnyProvider, Handlers, NotAccepted, UnknownTask
from korpu_runtime import provider_access as access
from korpu_runtime.api_keys import Principal
from korpu_runtime.http import problem
from korpu_runtime.service import Service
from korpu_runtime.unit_of_work import UnitOfWork


def router(provider: AnyProvider, handlers: Handlers, service: Service) -> APIRouter:
    keys = provider.schema.access
    api = APIRouter(prefix="/v1", tags=[str(provider.service)])
    reads_directory = Depends(keys.authorized(access.DIRECTORY_READ))
    reads_tasks = Depends(keys.authorized(access.TASKS_READ))
    acts = Depends(keys.authorized(access.TASKS_ACT))

    def task_view(conn: Connection, task_id: str) -> dict[str, Any] | None:
        return views.task(provider, conn, task_id)

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
        outcome = str(body.outcome)

        def end(uow: UnitOfWork) -> None:
            handlers.complete(uow, task_id, outcome)
            keys.completed(uow.conn, who, request, task_id, outcome)

        try:
            await service.transaction(end)
        except UnknownTask:
            await service.db.run(lambda c: keys.completion_refused(c, who, request, "unknown_task"))
            return _not_found()
        except NotAccepted as refused:
            await service.db.run(
                lambda c: keys.completion_refused(c, who, request, "not_accepted", task_id)
            )
            detail = f"The task is {refused.status}; only an accepted task can be completed."
            return problem(409, "Task not accepted", detail)
        view = await service.db.run(lambda conn: task_view(conn, task_id))
        assert view is not None
        return view

    return api


def _not_found() -> JSONResponse:
    return problem(404, "Not found", "No such task.")
