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
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from korpu_runtime import errors
from korpu_runtime import logging as runtime_logging
from korpu_runtime.service import Service

PROBLEM_JSON = "application/problem+json"
# The largest body any route takes unless its service says otherwise (`build_app`).
MAX_BODY_BYTES = 16 * 1024


def problem(status: int, title: str, detail: str = "", **extra: Any) -> JSONResponse:
    """An RFC 9457 problem document; a 401 says how to authenticate (RFC 6750)."""
    body: dict[str, Any] = {"type": "about:blank", "title": title, "status": status}
    if detail:
        body["detail"] = detail
    body.update(extra)
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


class Problem(Exception):
    """Raised in a route: answered as a problem document by the handler `build_app` installs."""

    def __init__(self, status: int, title: str, detail: str = "", **extra: Any) -> None:
        super().__init__(title)
        self.status, self.title, self.detail, self.extra = status, title, detail, extra


async def _problem(_request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, Problem)
    return problem(error.status, error.title, error.detail, **error.extra)


class HttpMiddleware:
    """A pure ASGI middleware that acts on HTTP requests only; lifespan and the rest pass.

    Rejected: Starlette's BaseHTTPMiddleware, which reads through its own request
    object and cannot count a body as it arrives or see a response before it is sent.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        await self.http(scope, receive, send)

    async def http(self, scope: Scope, receive: Receive, send: Send) -> None:
        raise NotImplementedError


class NoStore(HttpMiddleware):
    """`Cache-Control: no-store` on every answer: they speak of people's cases, and no
    proxy or browser cache may keep one. Rejected: marking only the routes that return
    a person, which a route added later would forget."""

    async def http(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def marked(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), (b"cache-control", b"no-store")]
            await send(message)

        await self.app(scope, receive, marked)


async def _invalid_request(_request: Request, error: Exception) -> JSONResponse:
    """400 for a body that is not JSON, else 422 naming every bad field.

    Only the field's path and the message: the value sent is never echoed, as it
    may be personal data.
    """
    assert isinstance(error, RequestValidationError)
    fields = []
    for item in error.errors():
        if item.get("type") == "json_invalid":
            return problem(400, "Malformed JSON", "The body is not valid JSON.")
        location = list(item.get("loc", ()))
        if location[:1] == ["body"]:
            location = location[1:]
        # An unknown field's name or a mapping's key is the sender's text, maybe a name.
        fields.append({"field": errors.field_path(location) or "(body)", "message": item["msg"]})
    return problem(422, "Invalid request", "See `errors` for every bad field.", errors=fields)


class UnexpectedErrors(HttpMiddleware):
    """A failure no handler expected: logged safely, answered as a 500 problem, not re-raised.

    Starlette's own last resort answers plain text and re-raises, and uvicorn then
    logs the traceback with the exception's text, which may hold what it was given
    (a value from the request, a person). Rejected: an exception handler for
    `Exception`, which Starlette calls and then re-raises all the same.
    """

    async def http(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = False

        async def watch(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, watch)
        except Exception:
            # A logger of the moment, not of the import: rare, and it writes where
            # the latest `configure` (this app's) said.
            log = runtime_logging.get(__name__)
            log.error("request_failed", method=scope["method"], path=scope["path"], exc_info=True)
            if not started:
                answer = problem(500, "Internal error", "The failure is logged for the operators.")
                await answer(scope, receive, send)


async def _http_error(_request: Request, error: Exception) -> JSONResponse:
    """Starlette's own answers (an unknown route, a method not allowed, a body that could
    not be read) as problem documents, like every other answer."""
    assert isinstance(error, StarletteHTTPException)
    return problem(error.status_code, HTTPStatus(error.status_code).phrase, str(error.detail))


class BodyLimit(HttpMiddleware):
    """413 once a body passes `limit` bytes, counted as they arrive, chunked or not.

    Outermost, so it acts before anything reads or authenticates: FastAPI reads a
    whole body before a route's dependencies run, so a limit checked in a route (or
    on `Content-Length` alone, which a chunked body has not) comes after the memory
    is spent. Past the limit this answers 413 itself, tells the app the client left,
    and drops whatever the app answers to that.
    """

    def __init__(self, app: ASGIApp, limit: int) -> None:
        super().__init__(app)
        self.limit = limit

    async def http(self, scope: Scope, receive: Receive, send: Send) -> None:
        too_large = problem(413, "Body too large", f"The limit is {self.limit} bytes.")
        declared = dict(scope["headers"]).get(b"content-length", b"")
        if declared.isdigit() and int(declared) > self.limit:
            await too_large(scope, receive, send)
            return
        received, refused, started = 0, False, False

        async def counted() -> Message:
            nonlocal received, refused
            if refused:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit:
                    refused = True
                    if not started:
                        await too_large(scope, receive, send)
                    return {"type": "http.disconnect"}
            return message

        async def watched(message: Message) -> None:
            nonlocal started
            if refused:
                return  # the 413 is the answer
            started = started or message["type"] == "http.response.start"
            await send(message)

        await self.app(scope, counted, watched)


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
        checks = await service.readiness()
        essential = [ok for name, ok in checks.items() if name not in service.bus_checks(checks)]
        if not all(essential):
            return JSONResponse({"status": "not ready", "checks": checks}, status_code=503)
        return {"status": "ready" if all(checks.values()) else "degraded", "checks": checks}

    return router


def build_app(
    service: Service,
    routers: Sequence[APIRouter],
    *,
    title: str,
    max_body_bytes: int = MAX_BODY_BYTES,
) -> FastAPI:
    """The service's ASGI app: its routes, health, problem answers, a body limit, and its
    logging set up."""
    runtime_logging.configure(service.settings.service, service.settings.log_level)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        await service.start()
        try:
            yield
        finally:
            await service.stop()

    app = FastAPI(title=title, version="1.0.0", lifespan=lifespan)
    app.state.service = service
    app.add_exception_handler(Problem, _problem)
    app.add_exception_handler(RequestValidationError, _invalid_request)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    # Each added wraps the ones before: BodyLimit acts before anything reads a byte of
    # the body, and NoStore marks every answer, BodyLimit's 413 included.
    app.add_middleware(UnexpectedErrors)
    app.add_middleware(BodyLimit, limit=max_body_bytes)
    app.add_middleware(NoStore)
    app.include_router(health_router(service))
    for router in routers:
        app.include_router(router)
    return app


def serve(app: FastAPI, host: str, port: int) -> None:
    """Run until SIGINT or SIGTERM; uvicorn then runs the lifespan's graceful stop."""
    config = uvicorn.Config(
        app, host=host, port=port, log_level="warning", access_log=False, lifespan="on"
    )
    uvicorn.Server(config).run()
