"""Redis memory over a long soak: streams trimmed below their slowest group stay bounded.

    benchmarks/soak [-n 50000] [--rate 150] [--every 10] [--trim-seconds 5] [--data-dir DIR]

Starts the four services as separate processes on SQLite, with a private Redis
(an embedded one, or REDIS_URL when it names a database other than 0: the stack
flushes it), and every service trimming its streams every `--trim-seconds`. An
"agency" consumer group reads and acknowledges its organization's status and
replies streams (korpu.referral.status.<org id>, korpu.referral.replies.<org id>). Referrals are
submitted over HTTP at a steady pace; every `--every` seconds a line shows what
was submitted and coordinated, the entries left in the korpu.* streams, Redis
used_memory and the referral process's RSS.

Running the soak a second time untrimmed would take as long again; the memory an
untrimmed run would use is estimated in the same run instead: the entries
trimmed away (entries-added minus length, from XINFO STREAM) times the bytes per
entry measured at the start (MEMORY USAGE of the streams over their length),
added to what used_memory is.

One agency key sends every referral, and they stay open: the stack runs with the
referral service's rate limit and open-referral cap raised (tests/support/stack.py,
UNTHROTTLED).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import shutil
import signal
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import httpx
import redis
import redis.asyncio as aioredis

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

import throughput

from korpu import catalog, status
from korpu.embedded_redis import EmbeddedRedis
from korpu.supervisor import Stack
from korpu_contracts import streams
from support.stack import running_stack

AGENCY_GROUP = "agency"
CONNECTIONS = 64
# Bytes per entry are measured once this many entries are in the streams: fewer
# would weigh the fixed cost of an empty stream and its groups too much.
CALIBRATION_ENTRIES = 500
# Bounded: the peak of the second half of the run at most this much above the
# peak between 10% and 50%. Untrimmed growth there is about +100% (linear);
# single samples are not compared, they swing with where the trim cycle stands.
BOUND = 0.25
DRAIN_STALL_SECONDS = 120.0
SETTLE_SECONDS = 60.0
MB = 1024 * 1024
# What XREADGROUP answers: per stream, its entries as (id, fields).
Entries = list[tuple[bytes, list[tuple[bytes, dict[bytes, bytes]]]]] | None


@dataclass
class Sample:
    seconds: float
    submitted: int
    coordinated: int
    live: int  # entries in the korpu.* streams now
    unprocessed: int  # of those, entries some group has not acknowledged: never trimmed
    added: int  # entries ever added to them (XINFO STREAM entries-added)
    used: int  # Redis used_memory, bytes
    rss: dict[str, int | None]  # each service's resident set, bytes


@dataclass
class Soak:
    count: int
    submitted: set[str] = field(default_factory=set)
    coordinated: set[str] = field(default_factory=set)
    failures: Counter[str] = field(default_factory=Counter)
    samples: list[Sample] = field(default_factory=list)
    bytes_per_entry: float | None = None
    submitting_seconds: float = 0.0
    # The agency's organization, whose status and replies streams its reader reads.
    organization_id: str = ""

    @property
    def agency_streams(self) -> tuple[str, str]:
        organization_id = self.organization_id
        return streams.referral_status(organization_id), streams.intake_replies(organization_id)

    def untrimmed(self, sample: Sample) -> float | None:
        """used_memory had nothing been trimmed: the trimmed entries put back."""
        if self.bytes_per_entry is None:
            return None
        return sample.used + (sample.added - sample.live) * self.bytes_per_entry


def _directory(count: int) -> dict[str, list[dict[str, Any]]]:
    """Room for every referral: a shelter has at most 10,000 beds, a lawyer 1,000 cases."""
    shelters = count // 10_000 + 1
    lawyers = count // 1_000 + 1
    return {
        "shelters": [{"name": f"Soak shelter {n}", "region": "Baku", "serves": ["women"],
                      "beds": 10_000} for n in range(shelters)],
        "programs": [{"name": f"Soak program {n}", "region": "Baku", "seats": 100_000,
                      "languages": ["az"], "min_age": 16} for n in range(count // 100_000 + 1)],
        "lawyers": [{"name": f"Soak lawyer {n}", "regions": ["Baku"], "languages": ["az"],
                     "max_caseload": 1000} for n in range(lawyers)],
    }  # fmt: skip


def _rss(stack: Stack, service: str) -> int | None:
    process = stack.processes[service].process
    if process is None:
        return None
    try:
        text = Path(f"/proc/{process.pid}/status").read_text()
    except OSError:
        return None
    for line in text.splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return None


async def _stream_names(client: aioredis.Redis) -> list[str]:
    return sorted([key.decode() async for key in client.scan_iter(match="korpu.*", _type="STREAM")])


async def _sample(client: aioredis.Redis, stack: Stack, soak: Soak, begin: float) -> Sample:
    live = added = 0
    names = await _stream_names(client)
    for name in names:
        info = await client.xinfo_stream(name)
        live += int(info["length"])
        added += int(info["entries-added"])
    if soak.bytes_per_entry is None and live >= CALIBRATION_ENTRIES:
        usage = [await client.memory_usage(name, samples=0) for name in names]
        soak.bytes_per_entry = sum(u or 0 for u in usage) / live
    groups = await asyncio.to_thread(_groups, str(stack.redis_url))
    held: dict[str, int] = {}
    for name, (pending, lag) in groups.items():
        stream = name.rpartition("/")[0]
        held[stream] = max(held.get(stream, 0), pending + lag)
    memory = await client.info("memory")
    sample = Sample(
        seconds=time.perf_counter() - begin,
        submitted=len(soak.submitted),
        coordinated=len(soak.coordinated),
        live=live,
        unprocessed=sum(held.values()),
        added=added,
        used=int(memory["used_memory"]),
        rss={service: _rss(stack, service) for service in catalog.SERVICES},
    )
    soak.samples.append(sample)
    return sample


def _mb(value: float | None) -> str:
    return "n/a" if value is None else f"{value / MB:.1f}"


HEADER = (
    f"{'t s':>6} {'submitted':>10} {'coordinated':>11} {'entries now':>11} "
    f"{'unprocessed':>11} {'entries added':>13} {'used_memory MB':>14} {'untrimmed MB':>12} "
    f"{'referral RSS MB':>15}"
)


def _line(soak: Soak, sample: Sample) -> str:
    return (
        f"{sample.seconds:>6.0f} {sample.submitted:>10} {sample.coordinated:>11} "
        f"{sample.live:>11} {sample.unprocessed:>11} {sample.added:>13} {_mb(sample.used):>14} "
        f"{_mb(soak.untrimmed(sample)):>12} {_mb(sample.rss['referral']):>15}"
    )


async def _agency(client: aioredis.Redis, soak: Soak) -> None:
    """An agency's system: reads its streams through its own group and acknowledges them.

    Each batch is acknowledged once recorded, not on receipt (rejected): an agency
    acknowledging first loses what a crash between the two drops. Until it
    acknowledges, its pending entries hold the trim floor of both streams.
    """
    wanted: dict[Any, Any] = dict.fromkeys(soak.agency_streams, ">")
    while True:
        answer = cast(
            Entries,
            await client.xreadgroup(AGENCY_GROUP, "agency-1", wanted, count=500, block=1000),
        )
        for stream, entries in answer or []:
            for _, fields in entries:
                event = json.loads(fields[streams.ENTRY_FIELD.encode()])
                if stream.decode() == soak.agency_streams[0]:
                    data = event["data"]
                    if data["status"] == "coordinated":
                        soak.coordinated.add(data["referral_id"])
            await client.xack(stream, AGENCY_GROUP, *(entry_id for entry_id, _ in entries))


async def _submit(base_url: str, key: str, soak: Soak, rate: float) -> None:
    """`soak.count` referrals at `rate` per second; at most CONNECTIONS in flight.

    When the services fall behind, the pace falls with them (no more than
    CONNECTIONS waiting) rather than queueing without bound in this process.
    """
    client = throughput.KeepAliveClient(base_url, key, connections=CONNECTIONS)
    await client.open()
    limit = asyncio.Semaphore(CONNECTIONS)

    async def one() -> None:
        try:
            code, answer = await client.post(
                "/v1/referrals", throughput.body_of_someone(), {"Idempotency-Key": uuid.uuid4().hex}
            )
            if code == 202:
                soak.submitted.add(str(json.loads(answer)["id"]))
            else:
                soak.failures[f"HTTP {code}: {answer[:120]!r}"] += 1
        except (OSError, asyncio.IncompleteReadError, ValueError) as error:
            soak.failures[repr(error)] += 1
        finally:
            limit.release()

    tasks: set[asyncio.Task[None]] = set()
    begin = time.perf_counter()
    try:
        for number in range(soak.count):
            await asyncio.sleep(max(0.0, begin + number / rate - time.perf_counter()))
            await limit.acquire()
            task = asyncio.create_task(one())
            tasks.add(task)
            task.add_done_callback(tasks.discard)
        await asyncio.gather(*tasks)
    finally:
        soak.submitting_seconds = time.perf_counter() - begin
        await client.close()


async def _create_agency_groups(client: aioredis.Redis, soak: Soak) -> None:
    # At 0 with MKSTREAM, before the first referral: every status is read, even
    # one written before the agency's reader first asks.
    for stream in soak.agency_streams:
        await client.xgroup_create(stream, AGENCY_GROUP, id="0", mkstream=True)


def _groups(redis_url: str) -> dict[str, tuple[int, int]]:
    """(pending, lag) of every consumer group, keyed `stream/group`, as `korpu status` sees them."""
    report = status.collect(redis.Redis.from_url(redis_url))
    return {
        f"{stream['name']}/{group['name']}": (group["pending"], group["lag"])
        for stream in report["streams"]
        for group in stream["groups"]
    }


async def _run(stack: Stack, key: str, soak: Soak, rate: float, every: float, trim: float) -> None:
    client = aioredis.from_url(str(stack.redis_url))
    try:
        await _create_agency_groups(client, soak)
        agency = asyncio.create_task(_agency(client, soak))
        begin = time.perf_counter()
        print(HEADER)
        print(_line(soak, await _sample(client, stack, soak, begin)))
        submit = asyncio.create_task(_submit(stack.processes["referral"].url, key, soak, rate))
        await _watch(client, stack, soak, submit, begin, every)
        await _settle(client, stack, soak, begin, trim)
        agency.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await agency
    finally:
        await client.aclose()


async def _watch(
    client: aioredis.Redis, stack: Stack, soak: Soak, submit: asyncio.Task[None],
    begin: float, every: float,
) -> None:  # fmt: skip
    """A line every `every` seconds until all is submitted and coordinated, or progress stalls."""
    last_progress, last_count = time.perf_counter(), -1
    while not (submit.done() and soak.submitted <= soak.coordinated):
        await asyncio.sleep(every)
        sample = await _sample(client, stack, soak, begin)
        print(_line(soak, sample), flush=True)
        if sample.coordinated != last_count:
            last_progress, last_count = time.perf_counter(), sample.coordinated
        elif submit.done() and time.perf_counter() - last_progress > DRAIN_STALL_SECONDS:
            print(f"no referral coordinated for {DRAIN_STALL_SECONDS:.0f} s; stopping the wait")
            break
    await submit


async def _settle(
    client: aioredis.Redis, stack: Stack, soak: Soak, begin: float, trim: float
) -> None:
    """Waits for every group to have taken and acknowledged everything, then for a last trim."""
    deadline = time.perf_counter() + SETTLE_SECONDS
    while time.perf_counter() < deadline:
        groups = await asyncio.to_thread(_groups, str(stack.redis_url))
        if not any(pending or lag for pending, lag in groups.values()):
            break
        await asyncio.sleep(1)
    # Within two intervals every service has trimmed at least once since.
    await asyncio.sleep(2 * trim + 1)
    print(_line(soak, await _sample(client, stack, soak, begin)), flush=True)
    for name in await _stream_names(client):
        info = await client.xinfo_stream(name)
        print(f"  {name}: length {info['length']}, entries added {info['entries-added']}")


def _log_findings(data_dir: Path) -> Iterator[str]:
    """Warnings and errors in the services' logs, counted by event name."""
    for path in sorted((data_dir / "logs").glob("*.log")):
        found: Counter[str] = Counter()
        for raw in path.read_text(errors="replace").splitlines():
            try:
                entry = json.loads(raw)
            except ValueError:
                entry = None
            if isinstance(entry, dict):
                if entry.get("level") in ("warning", "error", "critical"):
                    found[f"{entry['level']} {entry.get('event')}"] += 1
            elif any(word in raw for word in ("Traceback", "ERROR", "WARNING", "CRITICAL")):
                found[f"text {raw.strip()[:100]}"] += 1
        if found:
            counts = "; ".join(f"{n} x {what}" for what, n in found.most_common(8))
            yield f"  {path.name}: {counts}"


def _peak(samples: list[Sample], low: float, high: float, count: int) -> Sample | None:
    window = [s for s in samples if low * count <= s.submitted < high * count]
    if high >= 1:
        window += [s for s in samples if s.submitted >= count]
    return max(window, key=lambda s: s.used, default=None)


def _processed_kept(soak: Soak) -> str:
    """Whether what trimming may remove was removed: entries every group had acknowledged."""
    early = [s for s in soak.samples if 0.1 * soak.count <= s.submitted < 0.5 * soak.count]
    late = [s for s in soak.samples if s.submitted >= 0.5 * soak.count]
    if not early or not late:
        return "processed entries kept: too few samples to judge"
    kept_early = max(s.live - s.unprocessed for s in early)
    kept_late = max(s.live - s.unprocessed for s in late)
    backlog = max(s.unprocessed for s in soak.samples)
    answer = "YES" if kept_late <= kept_early * (1 + BOUND) else "NO"
    return (
        f"processed entries kept bounded: {answer} (entries every group had acknowledged, "
        f"still in the streams: peak {kept_early} over 10-50%, {kept_late} over 50-100%); "
        f"entries not yet processed by some group, which trimming must keep: peak {backlog}"
    )


def _verdict(soak: Soak) -> str:
    early = _peak(soak.samples, 0.1, 0.5, soak.count)
    late = _peak(soak.samples, 0.5, 1.0, soak.count)
    if early is None or late is None:
        return "bounded: too few samples to judge (lower --every or raise -n)"
    growth = late.used / early.used - 1
    untrimmed_early, untrimmed_late = soak.untrimmed(early), soak.untrimmed(late)
    without = (
        ""
        if untrimmed_early is None or untrimmed_late is None
        else f"; untrimmed it would be {_mb(untrimmed_early)} -> {_mb(untrimmed_late)} MB "
        f"({untrimmed_late / untrimmed_early - 1:+.0%})"
    )
    answer = "YES" if growth < BOUND else "NO"
    return (
        f"memory bounded: {answer} (peak used_memory {_mb(early.used)} MB over 10-50% of the "
        f"referrals, {_mb(late.used)} MB over 50-100%: {growth:+.0%}, limit +{BOUND:.0%}"
        f"{without})"
    )


def _summary(
    soak: Soak, stack: Stack, groups: dict[str, tuple[int, int]], findings: list[str]
) -> None:
    samples, final = soak.samples, soak.samples[-1]
    peak = max(samples, key=lambda s: s.used)
    longest = max(samples, key=lambda s: s.live)
    print()
    print(f"{'':<38} {'measured':>12} {'untrimmed (est.)':>18}")
    print(f"{'Redis used_memory at start, MB':<38} {_mb(samples[0].used):>12}")
    print(f"{'Redis used_memory peak, MB':<38} {_mb(peak.used):>12} "
          f"{_mb(max((soak.untrimmed(s) or 0) for s in samples)):>18}")  # fmt: skip
    print(f"{'Redis used_memory final, MB':<38} {_mb(final.used):>12} "
          f"{_mb(soak.untrimmed(final)):>18}")  # fmt: skip
    print(f"{'stream entries, peak total':<38} {longest.live:>12} {final.added:>18}")
    print(f"{'  of which unprocessed then':<38} {longest.unprocessed:>12}")
    print(f"{'unprocessed entries, peak':<38} {max(s.unprocessed for s in samples):>12}")
    print(f"{'stream entries, final total':<38} {final.live:>12} {final.added:>18}")
    print(f"{'entries added in total':<38} {final.added:>12}")
    per_entry = "n/a" if soak.bytes_per_entry is None else f"{soak.bytes_per_entry:.0f}"
    print(f"{'bytes per stream entry (at start)':<38} {per_entry:>12}")
    for service in catalog.SERVICES:
        sizes = [s.rss[service] or 0 for s in samples]
        print(f"{service + ' RSS start/peak/final, MB':<38} "
              f"{_mb(sizes[0])}/{_mb(max(sizes))}/{_mb(sizes[-1])}")  # fmt: skip
    rate = len(soak.submitted) / soak.submitting_seconds if soak.submitting_seconds else 0.0
    print(f"{'submitted, referrals/s':<38} {len(soak.submitted)} in "
          f"{soak.submitting_seconds:.0f} s = {rate:.1f}/s")  # fmt: skip
    print()
    print(_verdict(soak))
    print(_processed_kept(soak))
    _checks(soak, stack, groups, findings)


def _checks(
    soak: Soak, stack: Stack, groups: dict[str, tuple[int, int]], findings: list[str]
) -> None:
    missing = soak.submitted - soak.coordinated
    print(f"coordinated: {len(soak.submitted & soak.coordinated)} of {len(soak.submitted)} "
          f"submitted" + (f"; NOT coordinated: {len(missing)}, e.g. {sorted(missing)[:3]}"
                          if missing else ", all"))  # fmt: skip
    if soak.failures:
        print(f"submissions refused or failed: {soak.failures.most_common(5)}")
    busy = {name: pending for name, (pending, _) in groups.items() if pending}
    print(f"pending entries: {busy or f'0 in every group ({len(groups)} groups)'}")
    behind = {name: lag for name, (_, lag) in groups.items() if lag}
    print(f"entries not yet delivered (lag): {behind or '0 in every group'}")
    client = redis.Redis.from_url(str(stack.redis_url))
    dead = sum(client.xlen(letters) for letters in streams.DEAD_LETTERS_BY_SERVICE.values())
    print(f"dead letters: {dead}")
    restarts = {name: p.restarts for name, p in stack.processes.items() if p.restarts}
    print(f"service restarts: {restarts or 'none'}")
    print("warnings and errors in the service logs:" + ("" if findings else " none"))
    for line in findings:
        print(line)


def _status_of(agency: httpx.Client, referral_ids: set[str]) -> None:
    for referral_id in sorted(referral_ids)[:5]:
        answer = agency.get(f"/v1/referrals/{referral_id}")
        print(f"  referral {referral_id}: HTTP {answer.status_code} {answer.text[:300]}")


def _redis_url() -> str | None:
    url = os.environ.get("REDIS_URL")
    if url and int(redis.Redis.from_url(url).connection_pool.connection_kwargs.get("db", 0)) == 0:
        raise SystemExit(
            f"REDIS_URL={url} is database 0; the soak flushes its database. "
            "Name another (redis://host:6379/15) or unset REDIS_URL for an embedded Redis."
        )
    return url or None


@contextlib.contextmanager
def _data_dir(given: Path | None) -> Iterator[Path]:
    if given is None:
        folder = Path(tempfile.mkdtemp(prefix="korpu-soak-"))
        try:
            yield folder
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        return
    if given.exists() and any(given.iterdir()):
        raise SystemExit(f"{given} is not empty; the soak needs fresh databases")
    given.mkdir(parents=True, exist_ok=True)
    yield given


def _set_trim_interval(seconds: float) -> list[str]:
    names = [f"{service.upper()}_TRIM_INTERVAL_SECONDS" for service in catalog.SERVICES]
    for name in names:
        os.environ[name] = f"{seconds:g}"
    return names


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("-n", type=int, default=50_000, help="referrals to submit")
    parser.add_argument("--rate", type=float, default=150.0, help="referrals per second")
    parser.add_argument("--every", type=float, default=10.0, help="seconds between lines")
    parser.add_argument("--trim-seconds", type=float, default=5.0, help="services' trim interval")
    parser.add_argument("--data-dir", type=Path, help="kept afterwards (default: a temporary one)")
    args = parser.parse_args()
    # A SIGTERM (`kill`, nohup'd runs ignore SIGINT) unwinds the stack's context
    # managers, stopping the services and Redis, instead of orphaning them.
    signal.signal(signal.SIGTERM, _terminated)
    redis_url = _redis_url()
    trim_vars = _set_trim_interval(args.trim_seconds)
    soak = Soak(count=args.n)

    with contextlib.ExitStack() as cleanup:
        folder = cleanup.enter_context(_data_dir(args.data_dir))
        if redis_url is None:
            # A Redis of the soak's own, without users: its agency reads through a
            # consumer group (which an agency's Redis user may not keep) and the
            # harness reads every stream's memory.
            redis_url = cleanup.enter_context(EmbeddedRedis(folder / "soak")).url
        stack, agency = cleanup.enter_context(running_stack(folder, redis_url, _directory(args.n)))
        soak.organization_id = agency.organization_id
        _introduce(args, folder, stack, trim_vars, soak)
        key = agency.headers["Authorization"].removeprefix("Bearer ")
        asyncio.run(_run(stack, key, soak, args.rate, args.every, args.trim_seconds))
        groups = _groups(str(stack.redis_url))
        _summary(soak, stack, groups, list(_log_findings(folder)))
        if soak.submitted - soak.coordinated:
            _status_of(agency, soak.submitted - soak.coordinated)


def _terminated(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)


def _introduce(
    args: argparse.Namespace, folder: Path, stack: Stack, trim_vars: list[str], soak: Soak
) -> None:
    print(f"Körpü soak: {args.n} referrals at {args.rate:g}/s; 4 service processes on "
          f"SQLite in {folder}; Redis {stack.redis_url}; {os.cpu_count()} cores")  # fmt: skip
    print(f"Trimming every {args.trim_seconds:g} s: {', '.join(trim_vars)}="
          f"{args.trim_seconds:g}")  # fmt: skip
    print(f"An '{AGENCY_GROUP}' consumer group reads and acknowledges "
          f"{' and '.join(soak.agency_streams)}. Without any group those streams keep their "
          "entries for *_STREAM_RETENTION_HOURS (default 168 h) by design: an agency reading "
          "them with plain XREAD is invisible to the trimmer.")  # fmt: skip
    print("untrimmed MB = used_memory + (entries added - entries now) x bytes per entry, "
          f"measured once {CALIBRATION_ENTRIES} entries were in the streams.")  # fmt: skip
    print()


if __name__ == "__main__":
    main()
