"""The case workers' API: the program directory, one task, and completing a program place.

Every route asks for a key of an employment organization holding the route's scope
(korpu_runtime.provider_access names them) and leaves an entry in the employment
service's audit trail.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from employment.service_layer import handlers, views
from korpu_contracts import providers
from korpu_runtime import provider_access as access
from korpu_runtime.api_keys import Principal
from korpu_runtime.http import problem
from korpu_runtime.service import Service
from korpu_runtime.unit_of_work import UnitOfWork


def router(service: Service, keys: access.ProviderAccess) -> APIRouter:
    api = APIRouter(prefix="/v1", tags=["employment"])
    reads_directory = Depends(keys.authorized(access.DIRECTORY_READ))
    reads_tasks = Depends(keys.authorized(access.TASKS_READ))
    acts = Depends(keys.authorized(access.TASKS_ACT))

    @api.get("/programs", responses=access.DIRECTORY_RESPONSES)
    async def programs(request: Request, who: Principal = reads_directory) -> list[dict[str, Any]]:
        return await service.db.run(
            lambda conn: keys.directory(conn, who, request, views.programs_view)
        )

    @api.get("/tasks/{task_id}", response_model=None, responses=access.TASK_RESPONSES)
    async def task(
        task_id: str, request: Request, who: Principal = reads_tasks
    ) -> dict[str, Any] | JSONResponse:
        view = await service.db.run(
            lambda conn: keys.task(conn, who, request, task_id, views.task_view)
        )
        return view if view is not None else _not_found()

    @api.post("/tasks/{task_id}/complete", response_model=None, responses=access.ACT_RESPONSES)
    async def complete(
        task_id: str, body: providers.Completion, request: Request, who: Principal = acts
    ) -> dict[str, Any] | JSONResponse:
        outcome = str(body.outcome)

        def complete_place(uow: UnitOfWork) -> None:
            handlers.complete(uow, task_id, outcome)
            keys.completed(uow.conn, who, request, task_id, outcome)

        try:
            await service.transaction(complete_place)
        except handlers.UnknownTask:
            await service.db.run(lambda c: keys.completion_refused(c, who, request, "unknown_task"))
            return _not_found()
        except handlers.NotAccepted as refused:
            await service.db.run(
                lambda c: keys.completion_refused(c, who, request, "not_accepted", task_id)
            )
            return problem(409, "Task not accepted", f"Only an accepted task completes; {refused}.")
        view = await service.db.run(lambda conn: views.task_view(conn, task_id))
        assert view is not None
        return view

    return api


def _not_found() -> JSONResponse:
    return problem(404, "Not found", "No such task.")
