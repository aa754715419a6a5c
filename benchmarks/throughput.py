"""Referrals per second and latency to `coordinated`, beside a raw redis-py baseline.

    benchmarks/run [-n 1000] [--rate 20] [--seconds 15] [--alone 20]

Starts the four services as separate processes (SQLite files, Redis from
REDIS_URL or an embedded one), submits referrals over HTTP and times each from
submission until its `coordinated` status event: first one at a time (each
submitted once the one before is coordinated: the latency of a referral with
nothing queued), then a burst, then a steady rate. Then runs the same message
hops in hand-written redis-py (benchmarks/baseline_hops.py, no database, no
HTTP) against the same Redis in the same run, and prints both with the ratio.

One agency key sends every referral, far past what the referral service lets one
key do (REFERRAL_RATE_LIMIT_PER_MINUTE, REFERRAL_RATE_LIMIT_BURST) or have open
(REFERRAL_MAX_OPEN_REFERRALS): the stack runs with those raised
(tests/support/stack.py, UNTHROTTLED).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

import redis
import redis.asyncio as aioredis

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

import baseline_hops

from korpu.embedded_redis import EmbeddedRedis
from korpu_contracts import streams
from support.stack import running_stack

CAPACITY = 10_000
DIRECTORY = {
    "shelters": [{"name": "Bench shelter", "region": "Baku", "serves": ["women"],
                  "beds": CAPACITY}],
    "programs": [{"name": "Bench program", "region": "Baku", "seats": CAPACITY,
                  "languages": ["az"], "min_age": 16}],
    "lawyers": [{"name": f"Bench lawyer {n}", "regions": ["Baku"], "languages": ["az"],
                 "max_caseload": 1000} for n in range(10)],
}  # fmt: skip
BODY = {
    "agency_reference": "BENCH",
    "person": {"given_name": "Bench", "family_name": "Person", "date_of_birth": "1995-05-05",
               "sex": "female", "languages": ["az"]},
    "region": "Baku",
    "needs": ["shelter", "employment", "legal_aid"],
    "consent": {"shelter": "granted", "employment": "granted", "legal_aid": "granted"},
}  # fmt: skip


def body_of_someone() -> bytes:
    """A body for a person of their own: a person referred twice is a duplicate, not coordinated."""
    person = {**BODY["person"], "given_name": f"Bench{uuid.uuid4().hex[:12]}"}
    return json.dumps({**BODY, "person": person}).encode()


@dataclass
class Run:
    submitted: dict[str, float] = field(default_factory=dict)
    coordinated: dict[str, float] = field(default_factory=dict)
    # Set whenever a referral is coordinated, for a driver waiting for its own.
    progressed: asyncio.Event = field(default_factory=asyncio.Event)
    # Why the stream's reader stopped (a refused read, Redis gone): the run ends with it.
    failure: BaseException | None = None

    def check(self) -> None:
        if self.failure is not None:
            raise SystemExit(f"reading the outcomes failed: {self.failure!r}")

    def latencies_ms(self) -> list[float]:
        return sorted(
            (self.coordinated[i] - t) * 1000
            for i, t in self.submitted.items()
            if i in self.coordinated
        )


async def _listen(url: str, stream: str, run: Run, parse: Callable[[dict], str | None]) -> None:
    client = aioredis.from_url(url)
    last = "0-0"
    try:
        while True:
            answer = await client.xread({stream: last}, count=500, block=200)
            now = time.perf_counter()
            for _, entries in answer or []:
                for entry_id, fields in entries:
                    last = entry_id
                    done = parse(json.loads(fields[b"event"]))
                    if done and done not in run.coordinated:
                        run.coordinated[done] = now
                        run.progressed.set()
    except Exception as error:
        # Said, not left to a task nobody awaits: a driver would wait for ever.
        run.failure = error
        run.progressed.set()
    finally:
        await client.aclose()


async def _drive(
    submit: Callable[[], Awaitable[str]], run: Run, count: int, rate: float | None
) -> None:
    """`count` submissions, as fast as 64 at a time allow, or at a steady `rate` per second."""
    limit = asyncio.Semaphore(64)

    async def one() -> None:
        async with limit:
            started = time.perf_counter()
            run.submitted[await submit()] = started

    tasks = []
    begin = time.perf_counter()
    for number in range(count):
        if rate:
            await asyncio.sleep(max(0.0, begin + number / rate - time.perf_counter()))
        tasks.append(asyncio.create_task(one()))
    await asyncio.gather(*tasks)


async def _drive_alone(submit: Callable[[], Awaitable[str]], run: Run, count: int) -> None:
    """`count` submissions, each once the one before is coordinated: nothing ever queued."""
    for _ in range(count):
        started = time.perf_counter()
        referral_id = await submit()
        run.submitted[referral_id] = started
        while referral_id not in run.coordinated:
            run.check()
            run.progressed.clear()
            await run.progressed.wait()


# How submissions are made: `_drive_alone`, or `_drive` at a rate (`paced`).
Drive = Callable[[Callable[[], Awaitable[str]], Run, int], Awaitable[None]]


def paced(rate: float | None) -> Drive:
    return lambda submit, run, count: _drive(submit, run, count, rate)


async def _measure(
    url: str, stream: str, parse: Callable[[dict], str | None],
    submit: Callable[[], Awaitable[str]], count: int, drive: Drive,
) -> tuple[float, list[float]]:  # fmt: skip
    run = Run()
    listener = asyncio.create_task(_listen(url, stream, run, parse))
    begin = time.perf_counter()
    await drive(submit, run, count)
    deadline = time.perf_counter() + 120
    while len(run.coordinated.keys() & run.submitted.keys()) < count:
        run.check()
        if time.perf_counter() > deadline:
            raise SystemExit(f"only {len(run.coordinated)} of {count} coordinated in time")
        await asyncio.sleep(0.01)
    elapsed = max(run.coordinated.values()) - begin
    listener.cancel()
    return count / elapsed, run.latencies_ms()


def _korpu_parse(event: dict) -> str | None:
    data = event["data"]
    return data["referral_id"] if data["status"] == "coordinated" else None


class KeepAliveClient:
    """A minimal HTTP/1.1 client on kept-alive connections.

    The load generator shares the two cores with the services; httpx spent about
    half a core at 100 requests/s, which the services would then lack.
    Rejected: httpx here (it stays the client of the tests and the demo).
    """

    def __init__(self, base_url: str, key: str, connections: int) -> None:
        self.host, port = base_url.removeprefix("http://").split(":")
        self.port, self.key = int(port), key
        self.idle: asyncio.Queue[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = (
            asyncio.Queue()
        )
        self.connections = connections

    async def open(self) -> None:
        for _ in range(self.connections):
            self.idle.put_nowait(await asyncio.open_connection(self.host, self.port))

    async def post(self, path: str, body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
        reader, writer = await self.idle.get()
        try:
            head = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
            writer.write(
                f"POST {path} HTTP/1.1\r\nHost: {self.host}\r\n"
                f"Authorization: Bearer {self.key}\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(body)}\r\n{head}\r\n".encode()
                + body
            )
            status = int((await reader.readline()).split()[1])
            length = 0
            while (line := await reader.readline()) != b"\r\n":
                name, _, value = line.decode().partition(":")
                if name.lower() == "content-length":
                    length = int(value)
            return status, await reader.readexactly(length)
        finally:
            self.idle.put_nowait((reader, writer))

    async def close(self) -> None:
        while not self.idle.empty():
            _, writer = self.idle.get_nowait()
            writer.close()


async def korpu(
    base_url: str, key: str, status_stream: str, redis_url: str, count: int, drive: Drive
):
    client = KeepAliveClient(base_url, key, connections=64)
    await client.open()

    async def submit() -> str:
        status, answer = await client.post(
            "/v1/referrals", body_of_someone(), {"Idempotency-Key": uuid.uuid4().hex}
        )
        if status != 202:
            raise SystemExit(f"intake answered {status}: {answer[:200]!r}")
        return str(json.loads(answer)["id"])

    try:
        return await _measure(redis_url, status_stream, _korpu_parse, submit, count, drive)
    finally:
        await client.close()


async def baseline(redis_url: str, count: int, drive: Drive):
    client = aioredis.from_url(redis_url)

    async def submit() -> str:
        referral_id = uuid.uuid4().hex
        await client.xadd(baseline_hops.SUBMIT, {"event": json.dumps({"id": referral_id})})
        return referral_id

    try:
        return await _measure(
            redis_url, baseline_hops.STATUS, lambda event: event["id"], submit, count, drive
        )
    finally:
        await client.aclose()


def _start_baseline(redis_url: str) -> list[subprocess.Popen[bytes]]:
    script = str(Path(baseline_hops.__file__))
    roles = ["referral", "shelter", "employment", "legal_aid"]
    return [subprocess.Popen([sys.executable, script, role, redis_url]) for role in roles]


def _p99(latencies: list[float]) -> float:
    return latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]


def _line(name: str, rate: float, latencies: list[float]) -> str:
    p50 = statistics.median(latencies)
    return f"{name:<34} {rate:>10.1f} {p50:>10.1f} {_p99(latencies):>10.1f}"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("-n", type=int, default=1000, help="referrals for the throughput run")
    parser.add_argument("--rate", type=float, default=20.0, help="referrals/s for the steady run")
    parser.add_argument("--seconds", type=float, default=15.0, help="length of the steady run")
    parser.add_argument("--alone", type=int, default=20, help="referrals sent one at a time")
    args = parser.parse_args()
    steady = int(args.rate * args.seconds)

    with contextlib.ExitStack() as cleanup:
        folder = cleanup.enter_context(tempfile.TemporaryDirectory(prefix="korpu-bench-"))
        redis_url = os.environ.get("REDIS_URL")
        if redis_url is None:
            # A Redis of the benchmark's own, without users: the harness reads the status
            # stream and the baseline writes streams of its own, which no Körpü user may.
            # The services' own Redis users (`korpu up`) cost nothing measurable here.
            redis_url = cleanup.enter_context(EmbeddedRedis(Path(folder) / "bench")).url
        stack, agency = cleanup.enter_context(running_stack(Path(folder), redis_url, DIRECTORY))
        redis_url = str(stack.redis_url)
        key = agency.headers["Authorization"].removeprefix("Bearer ")
        told = streams.referral_status(agency.organization_id)
        base = stack.processes["referral"].url
        print(f"Körpü: 4 service processes, SQLite, Redis {redis_url}; {os.cpu_count()} cores")
        # Not counted: the first referral warms every process (connections, statements).
        asyncio.run(korpu(base, key, told, redis_url, 1, _drive_alone))
        alone = asyncio.run(korpu(base, key, told, redis_url, args.alone, _drive_alone))
        burst = asyncio.run(korpu(base, key, told, redis_url, args.n, paced(None)))
        steadily = asyncio.run(korpu(base, key, told, redis_url, steady, paced(args.rate)))
        memory = redis.Redis.from_url(redis_url).info("memory")["used_memory_human"]
        helpers = _start_baseline(redis_url)
        try:
            asyncio.run(baseline(redis_url, 1, _drive_alone))
            base_alone = asyncio.run(baseline(redis_url, args.alone, _drive_alone))
            base_burst = asyncio.run(baseline(redis_url, args.n, paced(None)))
            base_paced = asyncio.run(baseline(redis_url, steady, paced(args.rate)))
        finally:
            for process in helpers:
                process.kill()

    print()
    print(f"{'':<34} {'refs/s':>10} {'p50 ms':>10} {'p99 ms':>10}")
    print(_line(f"Körpü, one at a time x {args.alone}", *alone))
    print(_line("baseline, one at a time", *base_alone))
    print(_line(f"Körpü, burst of {args.n}", *burst))
    print(_line(f"baseline redis-py, burst of {args.n}", *base_burst))
    print(_line(f"Körpü, steady {args.rate:g}/s x {args.seconds:g}s", *steadily))
    print(_line(f"baseline, steady {args.rate:g}/s", *base_paced))
    print()
    print(
        f"one referral alone, submission to coordinated: {statistics.median(alone[1]):.1f} ms"
        f" (p50; slowest {max(alone[1]):.1f} ms)"
    )
    print(f"throughput ratio Körpü/baseline: {burst[0] / base_burst[0]:.2f}")
    print(f"steady p99 ratio Körpü/baseline: {_p99(steadily[1]) / _p99(base_paced[1]):.1f}x")
    print(f"Redis memory after the Körpü runs: {memory}")


if __name__ == "__main__":
    main()
