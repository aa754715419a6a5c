"""The ASGI middlewares at every service's HTTP edge, outermost first in `build_app`."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from korpu_runtime import logging as runtime_logging
from korpu_runtime import problems

# Only this origin, for everything a page may load, frame or send to: /docs serves
# Swagger UI's files itself (http_docs.py). `data:` images are Swagger UI's icons,
# inside its own stylesheet. Rejected: `'unsafe-inline'` for Swagger UI's start-up
# script, now a file of its own.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)
ANSWER_HEADERS = [
    # Answers speak of people's cases: no proxy or browser cache may keep one.
    (b"cache-control", b"no-store"),
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-content-type-options", b"nosniff"),
]
DISCONNECT: Message = {"type": "http.disconnect"}


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


class AnswerHeaders(HttpMiddleware):
    """`Cache-Control: no-store`, the Content-Security-Policy and `nosniff` on every answer.

    Rejected: marking only the routes that return a person, or only /docs, which a
    route added later would forget.
    """

    async def http(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def marked(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *ANSWER_HEADERS]
            await send(message)

        await self.app(scope, receive, marked)


class BodyLimit(HttpMiddleware):
    """413 once a body passes `limit` bytes, counted as they arrive, chunked or not; 408
    when the body takes longer than `timeout` seconds to arrive.

    Outermost but for the answer headers, so it acts before anything reads or
    authenticates: FastAPI reads a whole body before a route's dependencies run, so
    a limit checked in a route (or on `Content-Length` alone, which a chunked body
    has not) comes after the memory is spent. Past the limit or the time this
    answers itself, tells the app the client left, and drops whatever the app
    answers to that; the connection is then closed, not kept for the rest.
    """

    def __init__(self, app: ASGIApp, limit: int, timeout: float = 30.0) -> None:
        super().__init__(app)
        self.limit, self.timeout = limit, timeout

    async def http(self, scope: Scope, receive: Receive, send: Send) -> None:
        closing = {"Connection": "close"}
        too_large = problems.problem(
            problems.BODY_TOO_LARGE, detail=f"The limit is {self.limit} bytes.", headers=closing
        )
        declared = dict(scope["headers"]).get(b"content-length", b"")
        if declared.isdigit() and int(declared) > self.limit:
            await too_large(scope, receive, send)
            return
        deadline = asyncio.get_running_loop().time() + self.timeout
        received, refused, started, complete = 0, False, False, False

        async def refuse(answer: Any) -> Message:
            nonlocal refused
            refused = True
            if not started:
                await answer(scope, receive, send)
            return DISCONNECT

        async def counted() -> Message:
            nonlocal received, complete
            if refused:
                return DISCONNECT
            if complete:  # the body is in: what follows is a wait for the client to leave
                return await receive()
            try:
                async with asyncio.timeout_at(deadline):
                    message = await receive()
            except TimeoutError:
                detail = f"The body must arrive within {self.timeout:g} seconds."
                slow = problems.problem(problems.REQUEST_TIMEOUT, detail=detail, headers=closing)
                return await refuse(slow)
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                complete = not message.get("more_body", False)
                if received > self.limit:
                    return await refuse(too_large)
            return message

        async def watched(message: Message) -> None:
            nonlocal started
            if refused:
                return  # the 413 or 408 is the answer
            started = started or message["type"] == "http.response.start"
            await send(message)

        await self.app(scope, counted, watched)


class _Repeated(Exception):
    pass


def _no_repeats(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    if len({key for key, _ in pairs}) != len(pairs):
        raise _Repeated
    return {}  # only the check matters: the route parses the body again


def _read_as_json(scope: Scope) -> bool:
    """As FastAPI decides: a body with no type, or a JSON one, is parsed as JSON."""
    declared: bytes | None = dict(scope["headers"]).get(b"content-type")
    if declared is None:
        return True
    media = declared.split(b";")[0].strip().lower()
    return media == b"application/json" or (
        media.startswith(b"application/") and media.endswith(b"+json")
    )


class RepeatedKeys(HttpMiddleware):
    """400 for a JSON body with an object naming a key twice, before any route reads it.

    JSON parsers keep the last of two values (Python's, so FastAPI's), others the
    first: a body that means one thing to the agency's system and another here
    would be stored as neither side meant. Inside the body limit, so what is read
    here is already counted and bounded; the body is then handed on as read.
    Rejected: a check in each route, which a route added later would forget.
    """

    async def http(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not _read_as_json(scope):
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        while True:
            message = await receive()
            if message["type"] != "http.request":  # gone, or refused by the body limit
                await self.app(scope, _replay([message], receive), send)
                return
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        refusal = _refusal(body)
        if refusal is not None:
            await refusal(scope, receive, send)
            return
        whole: Message = {"type": "http.request", "body": body, "more_body": False}
        await self.app(scope, _replay([whole], receive), send)


def _refusal(body: bytes) -> Any:
    if not body.strip():
        return None
    try:
        json.loads(body, object_pairs_hook=_no_repeats)
    except _Repeated:
        # Neither the key nor a value: either may be the sender's text about a person.
        detail = "An object in the body names the same key more than once."
        return problems.problem(problems.REPEATED_KEY, detail=detail)
    except RecursionError:
        detail = "The body is nested too deeply."
        return problems.problem(problems.MALFORMED_JSON, detail=detail)
    except ValueError:
        return None  # not JSON: the route answers that, as for any body it cannot parse
    return None


def _replay(messages: list[Message], receive: Receive) -> Receive:
    async def replayed() -> Message:
        if messages:
            return messages.pop(0)
        return await receive()

    return replayed


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
                detail = "The failure is logged for the operators."
                await problems.problem(problems.INTERNAL_ERROR, detail=detail)(scope, receive, send)
