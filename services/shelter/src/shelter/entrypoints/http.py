"""The case workers' API: the directory and its use, a task's state, discharges.

No authentication yet: it listens on the providers' internal network only.
Before it is reachable from anywhere else it needs staff accounts and an audit
of who discharged whom.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from korpu_contracts import providers
from korpu_runtime.http import problem
from korpu_runtime.service import Service
from shelter.service_layer import handlers, views


def router(service: Service) -> APIRouter:
    api = APIRouter(prefix="/v1", tags=["shelter"])

    @api.get("/facilities")
    async def facilities() -> list[dict[str, Any]]:
        return await service.db.run(views.facilities)

    @api.get("/tasks/{task_id}", response_model=None)
    async def task(task_id: str) -> dict[str, Any] | JSONResponse:
        found = await service.db.run(lambda conn: views.task(conn, task_id))
        return found if found is not None else _not_found()

    @api.post("/tasks/{task_id}/complete", response_model=None)
    async def complete(task_id: str, body: providers.Completion) -> dict[str, Any] | JSONResponse:
        try:
            await service.transaction(
                lambda uow: handlers.complete(uow, task_id, str(body.outcome))
            )
        except handlers.UnknownTask:
            return _not_found()
        except handlers.NotAccepted as error:
            return problem(
                409, "Not accepted", f"Only an accepted task can be completed; this one is {error}."
            )
        found = await service.db.run(lambda conn: views.task(conn, task_id))
        assert found is not None
        return found

    return api


def _not_found() -> JSONResponse:
    return problem(404, "Not found", "No such shelter task.")
