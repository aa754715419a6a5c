"""The case workers' API: the program directory, one task, and completing a program place.

No authentication yet: it listens on the providers' internal network only.
It must get it before it is reachable from anywhere else.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from employment.service_layer import handlers, views
from korpu_contracts import providers
from korpu_runtime.http import problem
from korpu_runtime.service import Service


def router(service: Service) -> APIRouter:
    api = APIRouter(prefix="/v1", tags=["employment"])

    @api.get("/programs")
    async def programs() -> list[dict[str, Any]]:
        return await service.db.run(views.programs_view)

    @api.get("/tasks/{task_id}", response_model=None)
    async def task(task_id: str) -> dict[str, Any] | JSONResponse:
        view = await service.db.run(lambda conn: views.task_view(conn, task_id))
        return view if view is not None else _not_found()

    @api.post("/tasks/{task_id}/complete", response_model=None)
    async def complete(task_id: str, body: providers.Completion) -> dict[str, Any] | JSONResponse:
        try:
            await service.transaction(
                lambda uow: handlers.complete(uow, task_id, str(body.outcome))
            )
        except handlers.UnknownTask:
            return _not_found()
        except handlers.NotAccepted as refused:
            return problem(409, "Task not accepted", f"Only an accepted task completes; {refused}.")
        view = await service.db.run(lambda conn: views.task_view(conn, task_id))
        assert view is not None
        return view

    return api


def _not_found() -> JSONResponse:
    return problem(404, "Not found", "No such task.")
