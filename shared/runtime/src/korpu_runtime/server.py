"""uvicorn as every service runs it: limits on a request's head before any ASGI code sees it.

uvicorn waits for a request's head without end on a new connection (its
keep-alive timeout runs only between requests and stops at the first byte),
and answers a head h11 refuses with plain text. `GuardedH11Protocol` gives each
head `head_timeout` seconds from when the connection opens or the last answer
went out, and `max_head_bytes` bytes; past either it answers a problem document
(408, 431) and closes. The body's own time and size are the ASGI edge's
(edge.BodyLimit).
"""

from __future__ import annotations

import asyncio
import json
import re
from typing import Any

import h11
import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

from korpu_runtime import edge, problems

HEAD_END = re.compile(rb"\n\r?\n")


def raw_problem(kind: problems.Kind, detail: str) -> bytes:
    """A whole HTTP/1.1 answer that closes the connection, for before h11 has a request."""
    body = json.dumps(
        {"type": kind.type, "title": kind.title, "status": kind.status, "detail": detail}
    ).encode()
    head = (
        f"HTTP/1.1 {kind.status} {kind.title}\r\ncontent-type: {problems.PROBLEM_JSON}\r\n"
        f"content-length: {len(body)}\r\nconnection: close\r\n"
    ).encode()
    marks = b"".join(name + b": " + value + b"\r\n" for name, value in edge.ANSWER_HEADERS)
    return head + marks + b"\r\n" + body


class GuardedH11Protocol(H11Protocol):
    """uvicorn's h11 protocol with a deadline and a size limit on each request's head."""

    head_timeout = 10.0
    max_head_bytes = 8 * 1024

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._head_timer: asyncio.TimerHandle | None = None
        self._head_bytes = 0
        self._head_start = b""
        self._waiting_after: object = None  # the cycle answered last; a new one ends the wait

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._await_head()

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_waiting()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        waiting = self._head_timer is not None
        # Counted only between requests: the rest of a body nobody read is not a head.
        if waiting and self.conn.their_state is h11.IDLE:
            room = self.max_head_bytes + 4 - len(self._head_start)
            self._head_start += data[:room] if room > 0 else b""
            self._head_bytes += len(data)
            # A head ends at its blank line; what follows it in the same read is its body.
            if self._head_bytes > self.max_head_bytes and not HEAD_END.search(self._head_start):
                limit = f"The request line and headers may take {self.max_head_bytes} bytes."
                self._answer_and_close(problems.HEADERS_TOO_LARGE, limit)
                return
        super().data_received(data)
        if waiting and self.cycle is not self._waiting_after:
            self._stop_waiting()  # a whole head arrived and became a request

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing():
            self._waiting_after = self.cycle
            self._await_head()

    def send_400_response(self, msg: str) -> None:
        # What h11 cannot parse, as a problem document like every other refusal.
        self._stop_waiting()
        detail = "The request line or a header is not valid HTTP/1.1."
        self._answer_and_close(problems.MALFORMED_REQUEST, detail)

    def _await_head(self) -> None:
        self._stop_waiting()
        self._head_bytes = 0
        self._head_start = b""
        self._head_timer = self.loop.call_later(self.head_timeout, self._head_too_slow)

    def _stop_waiting(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_too_slow(self) -> None:
        self._head_timer = None
        if self.transport.is_closing():
            return
        if self._head_bytes == 0:
            self.transport.close()  # an idle connection: nothing was asked, nothing to answer
            return
        detail = f"The request line and headers must arrive within {self.head_timeout:g} seconds."
        self._answer_and_close(problems.REQUEST_TIMEOUT, detail)

    def _answer_and_close(self, kind: problems.Kind, detail: str) -> None:
        self._stop_waiting()
        if not self.transport.is_closing():
            self.transport.write(raw_problem(kind, detail))
            self.transport.close()


def protocol(head_timeout: float, max_head_bytes: int) -> type[GuardedH11Protocol]:
    """The protocol class with these limits, for `uvicorn.Config(http=...)`."""
    return type(
        "GuardedH11",
        (GuardedH11Protocol,),
        {"head_timeout": head_timeout, "max_head_bytes": max_head_bytes},
    )


def config(
    app: Any,
    host: str,
    port: int,
    *,
    head_timeout: float,
    max_head_bytes: int,
    keep_alive_seconds: float,
) -> uvicorn.Config:
    """uvicorn's configuration for a service: one process, its guarded protocol, no access log.

    `proxy_headers` off: uvicorn would otherwise take the client address from
    `X-Forwarded-For` on any connection from 127.0.0.1, so anyone on the host could
    pick the address the rate limit charges.
    """
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level="warning",
        access_log=False,
        lifespan="on",
        http=protocol(head_timeout, max_head_bytes),
        # h11's own limit on an unfinished event, a second guard behind the count above.
        h11_max_incomplete_event_size=max_head_bytes,
        timeout_keep_alive=int(keep_alive_seconds),
        proxy_headers=False,
    )
