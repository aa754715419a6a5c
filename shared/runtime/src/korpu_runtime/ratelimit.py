"""A rate limit per API key: a token bucket each, in the process, before any body or database.

A request with `Authorization: Bearer <key>` spends a token of its key's bucket,
found by the SHA-256 of the key (the hash the key tables store), so a flood is
refused without a database lookup; one without a key spends from its client
address's bucket. A bucket holds `burst` tokens and gains `per_minute` a minute.
An empty one is answered 429 with `Retry-After` and the `RateLimit` and
`RateLimit-Policy` fields of draft-ietf-httpapi-ratelimit-headers (the
structured-field form of drafts 08 to 12: `"key";q=600;w=60` and `"key";r=5;t=12`).

Keys made up by a stranger each get a fresh bucket, so guessing is also charged
to the address it comes from: every 401 spends a token of the address's bucket,
and once that is empty the address may use only keys that were answered before
without a 401, until it refills.

Per process: each replica keeps its own buckets, so N replicas let a key through
up to N times the limit. Rejected: buckets in Redis (a round trip on every
request, and the API would stop when Redis does, which the outbox exists to
avoid) and in the database (the lookup this is meant to spare).
"""

from __future__ import annotations

import asyncio
import hashlib
import math
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.engine import Connection
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from korpu_runtime import background, problems
from korpu_runtime import logging as runtime_logging
from korpu_runtime.database import Database
from korpu_runtime.edge import HttpMiddleware

log = runtime_logging.get(__name__)

# Health holds no data and answers from memory and one ping. Rejected: limiting it,
# whereupon a flood from the supervisor's own address would make a healthy service
# look dead to its probes.
UNLIMITED = "/health/"
# For a key's own limit (requests a minute), or None for the default: a service
# binds it to what it stores per key. It must not reach a database on each call.
LimitFor = Callable[[str], "int | None"]


def no_raised_limits(_key_hash: str) -> int | None:
    return None


class RaisedLimits(background.Periodic):
    """The keys' own limits (`korpu org keys limit`), read from the service's key tables
    at the start and every `interval` seconds: the middleware asks memory, never the
    database. A limit set or removed applies within `interval`."""

    def __init__(
        self, db: Database, read: Callable[[Connection], dict[str, int]], interval: float = 10.0
    ) -> None:
        self._db, self._read = db, read
        self.limits: dict[str, int] = {}
        self.loop = background.Loop("raised-limits", interval, self.refresh)
        self._first: asyncio.Task[None] | None = None

    async def refresh(self) -> None:
        self.limits = await self._db.run(self._read)

    def start(self) -> None:
        super().start()
        # The first read at once, beside the loop (which waits an interval first).
        self._first = asyncio.create_task(self.loop_round(), name="raised-limits-first")

    async def loop_round(self) -> None:
        try:
            await self.refresh()
        except Exception:
            log.warning("raised_limits_not_read", exc_info=True)

    def __call__(self, key_hash: str) -> int | None:
        return self.limits.get(key_hash)


def key_hash(key: str) -> str:
    """The SHA-256 of an API key as hex: how key tables store it, and how buckets are found."""
    return hashlib.sha256(key.encode()).hexdigest()


@dataclass
class Bucket:
    tokens: float
    at: float
    # Answered without a 401 at least once: a key that exists (or existed).
    known: bool = False


@dataclass(frozen=True)
class Decision:
    allowed: bool
    remaining: int
    retry_after: int  # seconds until a token is there; 0 when one was taken
    reset: int  # seconds until the bucket is full again


class Buckets:
    """Token buckets by name, at most `capacity` of them: the least recently used go first.

    Bounded so that a stranger sending a new key on each request cannot grow the
    process without end; a bucket forgotten is full when next met, so the bound
    should exceed the keys and addresses active within a minute or two.
    """

    def __init__(self, capacity: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.capacity, self.clock = capacity, clock
        self._buckets: OrderedDict[str, Bucket] = OrderedDict()

    def __len__(self) -> int:
        return len(self._buckets)

    def get(self, name: str, burst: int) -> Bucket:
        bucket = self._buckets.get(name)
        if bucket is None:
            bucket = self._buckets[name] = Bucket(float(burst), self.clock())
            while len(self._buckets) > self.capacity:
                self._buckets.popitem(last=False)
        else:
            self._buckets.move_to_end(name)
        return bucket

    def take(self, name: str, per_minute: int, burst: int) -> Decision:
        bucket = self.get(name, burst)
        rate = per_minute / 60.0
        now = self.clock()
        bucket.tokens = min(float(burst), bucket.tokens + (now - bucket.at) * rate)
        bucket.at = now
        allowed = bucket.tokens >= 1.0
        if allowed:
            bucket.tokens -= 1.0
        retry_after = 0 if allowed else math.ceil((1.0 - bucket.tokens) / rate)
        reset = math.ceil((burst - bucket.tokens) / rate)
        return Decision(allowed, int(bucket.tokens), retry_after, reset)

    def empty(self, name: str, per_minute: int, burst: int) -> bool:
        """Whether the bucket has no whole token now, without taking one."""
        bucket = self.get(name, burst)
        gained = (self.clock() - bucket.at) * per_minute / 60.0
        return min(float(burst), bucket.tokens + gained) < 1.0


def _bearer(scope: Scope) -> str | None:
    for name, value in scope["headers"]:
        if name == b"authorization":
            scheme, _, key = value.decode("latin-1").partition(" ")
            key = key.strip()
            return key if scheme.lower() == "bearer" and key else None
    return None


class RateLimit(HttpMiddleware):
    """429 once a key (or, without one, an address) has spent its bucket; see the module."""

    def __init__(
        self,
        app: ASGIApp,
        per_minute: int,
        burst: int,
        capacity: int = 100_000,
        limit_for: LimitFor = no_raised_limits,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(app)
        self.per_minute, self.burst, self.limit_for = per_minute, burst, limit_for
        self.buckets = Buckets(capacity, clock)

    async def http(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["path"].startswith(UNLIMITED):
            await self.app(scope, receive, send)
            return
        client = scope.get("client")
        address = f"address:{client[0] if client else '-'}"
        key = _bearer(scope)
        name, per_minute, burst = address, self.per_minute, self.burst
        if key is not None:
            hashed = key_hash(key)
            raised = self.limit_for(hashed)
            if raised is not None:
                # A raised limit raises the burst alike: a minute's worth may come at once.
                per_minute, burst = raised, max(self.burst, raised)
            name = f"key:{hashed}"
            known = self.buckets.get(name, burst).known
            if not known and self.buckets.empty(address, self.per_minute, self.burst):
                # Guessing from an address that was refused too often: no lookup either.
                decision = self.buckets.take(address, self.per_minute, self.burst)
                await self._refuse(decision, self.per_minute, "address")(scope, receive, send)
                return
        decision = self.buckets.take(name, per_minute, burst)
        if not decision.allowed:
            policy = "key" if key is not None else "address"
            await self._refuse(decision, per_minute, policy)(scope, receive, send)
            return
        fields = _fields(decision, per_minute, "key" if key is not None else "address")

        async def answered(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *fields]
                if key is not None:
                    if message["status"] == 401:
                        self.buckets.take(address, self.per_minute, self.burst)
                    else:
                        self.buckets.get(name, burst).known = True
            await send(message)

        await self.app(scope, receive, answered)

    @staticmethod
    def _refuse(decision: Decision, per_minute: int, policy: str) -> JSONResponse:
        headers = {"Retry-After": str(decision.retry_after)}
        headers.update((k.decode(), v.decode()) for k, v in _fields(decision, per_minute, policy))
        detail = f"Try again in {decision.retry_after} seconds."
        return problems.problem(problems.RATE_LIMITED, detail=detail, headers=headers)


def _fields(decision: Decision, per_minute: int, policy: str) -> list[tuple[bytes, bytes]]:
    return [
        (b"ratelimit-policy", f'"{policy}";q={per_minute};w=60'.encode()),
        (b"ratelimit", f'"{policy}";r={decision.remaining};t={decision.reset}'.encode()),
    ]
