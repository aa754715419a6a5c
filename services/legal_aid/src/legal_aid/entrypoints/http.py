"""The case workers' API: the lawyer directory, a task's state, the end of a case.

No authentication yet: it listens on the provider's internal network only. It
must get it before it is exposed any wider, as it names lawyers and case outcomes.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from korpu_contracts import providers
from korpu_runtime.http import problem
from korpu_runtime.service import Service
from legal_aid.service_layer import handlers, views


def router(service: Service) -> APIRouter:
    api = APIRouter(prefix="/v1", tags=["legal_aid"])

    @api.get("/lawyers")
    async def lawyers() -> list[dict[str, Any]]:
        return await service.db.run(views.lawyers)

    @api.get("/tasks/{task_id}", response_model=None)
    async def task(task_id: str) -> dict[str, Any] | JSONResponse:
        view = await service.db.run(lambda conn: views.task(conn, task_id))
        return _not_found() if view is None else view

    @api.post("/tasks/{task_id}/complete", response_model=None)
    async def complete(task_id: str, body: providers.Completion) -> dict[str, Any] | JSONResponse:
        try:
            await service.transaction(
                lambda uow: handlers.complete(uow, task_id, str(body.outcome))
            )
        except handlers.UnknownTask:
            return _not_found()
        except handlers.NotAccepted as error:
            detail = f"The task is {error.status}; only an accepted task can be completed."
            return problem(409, "Task not accepted", detail)
        view = await service.db.run(lambda conn: views.task(conn, task_id))
        assert view is not None
        return view

    return api


def _not_found() -> JSONResponse:
    return problem(404, "Not found", "No such task.")
