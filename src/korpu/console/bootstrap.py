"""Builds the console's app: its database, Redis client, edge, pages and health."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import redis
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from korpu import operations, redis_acl
from korpu.console import i18n, pages, signin, tables, web
from korpu.console.settings import ConsoleSettings
from korpu_runtime import edge, metrics, problems, ratelimit, scrape
from korpu_runtime.database import Database

Settings = ConsoleSettings
METADATA = tables.METADATA
# Read by `korpu audit --console` (korpu.catalog.trail).
TRAIL = tables.TRAIL
# Forms are short: a name, a password, a reason of 500 characters, a filter.
MAX_BODY_BYTES = 8 * 1024
STATIC = Path(__file__).parent / "static"


def build_app(settings: ConsoleSettings) -> FastAPI:
    if not settings.service_urls:
        settings.service_urls = _default_urls()
    db = Database(settings.database_url, workers=2)
    # Like every operator's command: REDIS_URL when set, else the Redis `korpu up` started
    # for this data folder, signed in as the operator.
    url = operations.known_redis_url(redis_acl.OPERATOR) or settings.redis_url
    client = redis.Redis.from_url(
        url, decode_responses=True, socket_connect_timeout=3, socket_timeout=10
    )
    parts = web.Console(settings, db, client)
    readings = metrics.Metrics()

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        # Before the first request: every replica migrates alike (korpu_runtime.migrations).
        await run_in_threadpool(db.create_schema, METADATA)
        try:
            yield
        finally:
            client.close()
            db.close()

    app = FastAPI(
        title="Körpü console", lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None
    )
    app.state.console = parts
    app.state.settings = settings
    # /metrics answers in problem documents, like every service's.
    app.add_exception_handler(problems.Problem, _problem)
    app.add_exception_handler(web.SignInNeeded, _sign_in_needed)
    app.add_exception_handler(web.Forbidden, _forbidden)
    app.add_exception_handler(web.Elsewhere, _elsewhere)
    app.add_exception_handler(web.NotFound, _not_found)
    app.add_exception_handler(web.Unavailable, _unavailable)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_middleware(edge.UnexpectedErrors)
    app.add_middleware(
        ratelimit.RateLimit,
        per_minute=settings.rate_limit_per_minute,
        burst=settings.rate_limit_burst,
        capacity=settings.rate_limit_buckets,
        limit_for=ratelimit.no_raised_limits,
    )
    app.add_middleware(
        edge.BodyLimit, limit=MAX_BODY_BYTES, timeout=settings.http_body_timeout_seconds
    )
    app.add_middleware(edge.AnswerHeaders)
    app.add_middleware(metrics.HttpMetrics, metrics=readings)

    async def read_metrics() -> bytes:
        return readings.render()

    app.include_router(_health(parts))
    app.include_router(scrape.router(settings, read_metrics))
    app.include_router(signin.router())
    for router in pages.routers():
        app.include_router(router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    return app


def _health(parts: web.Console) -> Any:
    from fastapi import APIRouter

    router = APIRouter()

    @router.get("/health/live")
    async def live() -> dict[str, str]:
        return {"status": "live"}

    @router.get("/health/ready", response_model=None)
    async def ready() -> dict[str, Any] | JSONResponse:
        # Like every service's: "degraded" when only Redis is away (the pages say so),
        # 503 when the console's own database is.
        checks = {
            "database": await run_in_threadpool(parts.db.ping),
            "redis": await run_in_threadpool(_pings, parts.redis),
        }
        named = {"service": parts.settings.service, "checks": checks}
        if not checks["database"]:
            return JSONResponse({"status": "not ready", **named}, 503)
        return {"status": "ready" if all(checks.values()) else "degraded", **named}

    return router


def _pings(client: redis.Redis) -> bool:
    try:
        return bool(client.ping())
    except redis.RedisError:
        return False


async def _problem(_request: Request, error: Exception) -> Response:
    assert isinstance(error, problems.Problem)
    return error.answer()


async def _sign_in_needed(request: Request, _error: Exception) -> Response:
    return web.to_sign_in(request)


async def _forbidden(request: Request, error: Exception) -> Response:
    return _refused(request, error, 403, i18n.N_("Not allowed"))


async def _elsewhere(_request: Request, error: Exception) -> Response:
    assert isinstance(error, web.Elsewhere)
    return RedirectResponse(error.target, status_code=303)


async def _not_found(request: Request, error: Exception) -> Response:
    return _refused(request, error, 404, i18n.N_("Not found"))


async def _unavailable(request: Request, error: Exception) -> Response:
    return _refused(request, error, 503, i18n.N_("Unavailable"))


def _refused(request: Request, error: Exception, status: int, title: str) -> Response:
    assert isinstance(error, web.Refusal)
    return web.render(request, "error.html", status, title=title, message=error.said)


# What the framework refuses by itself, said in the console's words: its own detail
# ("Not Found", "Method Not Allowed") is English no catalog holds.
HTTP_ERRORS = {
    404: (i18n.N_("Not found"), i18n.N_("No such page.")),
    405: (i18n.N_("Not allowed"), i18n.N_("This page does not take that kind of request.")),
}
REFUSED = (i18n.N_("Refused"), i18n.N_("The request was refused."))


async def _http_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, StarletteHTTPException)
    title, message = HTTP_ERRORS.get(error.status_code, REFUSED)
    return web.render(
        request, "error.html", error.status_code, title=title, message=i18n.Said(message)
    )


def _default_urls() -> dict[str, str]:
    """Each service on its own default port here: what a console started alone looks at."""
    from korpu import catalog

    return {
        name: f"http://127.0.0.1:{catalog.settings(name).http_port}" for name in catalog.SERVICES
    }
