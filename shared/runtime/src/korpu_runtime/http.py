"""The HTTP side every service shares: the ASGI app, health endpoints, problem details."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from http import HTTPStatus
from typing import Any

import uvicorn
from fastapi import APIRouter, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from korpu_runtime import (
    api_keys,
    edge,
    errors,
    http_docs,
    metrics,
    problems,
    ratelimit,
    scrape,
    server,
)
from korpu_runtime import logging as runtime_logging
from korpu_runtime.service import Service

# The largest body any route takes unless its service says otherwise (`build_app`).
MAX_BODY_BYTES = 16 * 1024
# Where every service's answers come from, re-exported: routes import them from here.
PROBLEM_JSON = problems.PROBLEM_JSON
problem = problems.problem
Problem = problems.Problem


async def _problem(_request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, Problem)
    return error.answer()


async def _invalid_request(_request: Request, error: Exception) -> JSONResponse:
    """400 for a body that is not JSON, else 422 naming every bad field.

    Only the field's path and the message: the value sent is never echoed, as it
    may be personal data.
    """
    assert isinstance(error, RequestValidationError)
    fields = []
    for item in error.errors():
        if item.get("type") == "json_invalid":
            return problem(problems.MALFORMED_JSON, detail="The body is not valid JSON.")
        location = list(item.get("loc", ()))
        if location[:1] == ["body"]:
            location = location[1:]
        # An unknown field's name or a mapping's key is the sender's text, maybe a name.
        fields.append({"field": errors.field_path(location) or "(body)", "message": item["msg"]})
    detail = "See `errors` for every bad field."
    return problem(problems.INVALID_REQUEST, detail=detail, errors=fields)


async def _http_error(_request: Request, error: Exception) -> JSONResponse:
    """Starlette's own answers (an unknown route, a method not allowed, a body that could
    not be read) as problem documents, like every other answer."""
    assert isinstance(error, StarletteHTTPException)
    kind = problems.kind_of(error.status_code)
    title = None if kind in problems.KINDS else HTTPStatus(error.status_code).phrase
    headers = dict(error.headers or {})  # a 405's `Allow`
    return problem(kind, title, str(error.detail), headers=headers)


def health_router(service: Service) -> APIRouter:
    router = APIRouter(tags=["health"])

    @router.get("/health/live")
    async def live() -> dict[str, str]:
        return {"status": "live"}

    @router.get("/health/ready", response_model=None)
    async def ready() -> dict[str, Any] | JSONResponse:
        # Truthful, in three states. "ready": everything runs. "degraded" (200): Redis
        # or a reader is away; the HTTP API still works (intake answers 202, the events
        # wait in the outbox) and the service heals by itself. "not ready" (503): not
        # started, or the database or a background task is down.
        # Rejected: FastStream's ASGI health, which stays 204 after its broker failed;
        # and 503 for a Redis outage, which would take the intake away from agencies
        # exactly when the outbox could keep their referrals.
        # `service` names who answers, so a supervisor never takes another process on
        # the port it chose (one that got there first) for the one it started.
        checks = await service.readiness()
        essential = [ok for name, ok in checks.items() if name not in service.bus_checks(checks)]
        named = {"service": service.settings.service}
        if not all(essential):
            return JSONResponse({"status": "not ready", **named, "checks": checks}, 503)
        status = "ready" if all(checks.values()) else "degraded"
        return {"status": status, **named, "checks": checks}

    return router


def build_app(
    service: Service,
    routers: Sequence[APIRouter],
    *,
    title: str,
    max_body_bytes: int = MAX_BODY_BYTES,
    keyring: api_keys.Keyring | None = None,
) -> FastAPI:
    """The service's ASGI app: its routes, health, /metrics, its own /docs, problem answers,
    the edge's limits (body, time, rate, repeated keys), and its logging set up.

    With the service's `keyring`, a key's own rate limit (`korpu org keys limit`)
    replaces the default for that key (ratelimit.RaisedLimits).
    """
    settings = service.settings
    limit_for: ratelimit.LimitFor = ratelimit.no_raised_limits
    if keyring is not None:
        raised = ratelimit.RaisedLimits(service.db, keyring.raised_limits)
        service.parts.append(raised)
        limit_for = raised
    runtime_logging.configure(settings.service, settings.log_level)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        await service.start()
        try:
            yield
        finally:
            await service.stop()

    app = FastAPI(
        title=title,
        version="1.0.0",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        swagger_ui_oauth2_redirect_url=None,
    )
    app.state.service = service
    app.state.settings = settings
    app.add_exception_handler(Problem, _problem)
    app.add_exception_handler(RequestValidationError, _invalid_request)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    # Each added wraps the ones before, so the last added acts first: the answer
    # headers mark every answer, the edge's own refusals included; the body is
    # counted and timed before anything reads it; the rate limit refuses before a
    # byte of the body is read or a key looked up; repeated keys are refused before
    # a route parses the body.
    app.add_middleware(edge.UnexpectedErrors)
    app.add_middleware(edge.RepeatedKeys)
    app.add_middleware(
        ratelimit.RateLimit,
        per_minute=settings.rate_limit_per_minute,
        burst=settings.rate_limit_burst,
        capacity=settings.rate_limit_buckets,
        limit_for=limit_for,
    )
    app.add_middleware(
        edge.BodyLimit, limit=max_body_bytes, timeout=settings.http_body_timeout_seconds
    )
    app.add_middleware(edge.AnswerHeaders)
    # Outermost: every answer is counted, the edge's own refusals included.
    app.add_middleware(metrics.HttpMetrics, metrics=service.metrics)
    app.include_router(health_router(service))
    app.include_router(scrape.router(service.settings, service.read_metrics))
    app.include_router(http_docs.router(title, app.openapi_url or "/openapi.json"))
    for router in routers:
        app.include_router(router)
    return app


def uvicorn_config(app: FastAPI, host: str, port: int) -> uvicorn.Config:
    """How `serve` runs the app: its service's limits on request heads and idle connections
    (`app.state.settings`, which every process's app sets)."""
    settings = app.state.settings
    return server.config(
        app,
        host,
        port,
        head_timeout=settings.http_head_timeout_seconds,
        max_head_bytes=settings.http_max_head_bytes,
        keep_alive_seconds=settings.http_keep_alive_seconds,
    )


def serve(app: FastAPI, host: str, port: int) -> None:
    """Run until SIGINT or SIGTERM; uvicorn then runs the lifespan's graceful stop."""
    uvicorn.Server(uvicorn_config(app, host, port)).run()
