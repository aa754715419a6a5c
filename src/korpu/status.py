"""`korpu status`: each stream's length, each consumer group's lag, and what is wrong."""

from __future__ import annotations

import dataclasses
import datetime as dt
import time
from typing import Any

import redis

from korpu import dlq, output
from korpu_contracts import streams

# Entries per XRANGE call when the lag has to be counted here.
PAGE = 1000
# What the report describes, the dead letters last.
STREAMS = (*streams.ALL, *streams.DEAD_LETTERS_BY_SERVICE.values())

# What `korpu status --check` calls a problem: the conditions the Prometheus alert rules
# (deploy/prometheus/) fire on, with the same thresholds where one look can tell.
# An entry delivered and not acknowledged for this long: its reader died or is stuck.
PENDING_TOO_LONG_S = 300
# The rules alert on lag growing for 5 minutes, which one look cannot see; a backlog of
# this many entries stands in for it here (rejected: two looks minutes apart, which a
# cron job would wait for at every run).
LAG_TOO_HIGH = 1000
# A group has no reader when an entry has waited this long to be delivered to it and no
# consumer of it read meanwhile: a running reader takes a new entry within a fraction of
# a second. Rejected: "no consumer" alone. Redis (7.0) lists a consumer only once it was
# given an entry, and an empty read does not reset its idle time, so every live reader of
# a quiet stream would count as missing; and a stopped reader's consumer stays listed.
READER_GONE_S = 60


@dataclasses.dataclass(frozen=True)
class Problem:
    """One condition an alert rule would fire on."""

    check: str  # no_reader, pending_too_long, lag_too_high, dead_letters
    stream: str
    group: str | None
    value: float | None  # the seconds waited, age, lag or count found
    limit: float | None
    message: str


def collect(client: redis.Redis) -> dict[str, Any]:
    at = dt.datetime.now(dt.UTC).isoformat()
    described = [_stream(client, name) for name in names(client)]
    letters = set(streams.DEAD_LETTERS_BY_SERVICE.values())
    count = sum(stream["length"] for stream in described if stream["name"] in letters)
    report = {"at": at, "streams": described, "dead_letters": count}
    return {**report, "problems": [dataclasses.asdict(p) for p in problems(report)]}


def problems(report: dict[str, Any]) -> list[Problem]:
    """What is wrong in a report, stream by stream."""
    found = []
    letters = set(streams.DEAD_LETTERS_BY_SERVICE.values())
    for stream in report["streams"]:
        name, count = stream["name"], stream["length"]
        if name in letters and count:
            message = f"{name}: {count} dead letter(s) (see `korpu dlq list`)"
            found.append(Problem("dead_letters", name, None, count, 0, message))
        for group in stream["groups"]:
            found += _group_problems(name, group)
    return found


def _group_problems(stream: str, group: dict[str, Any]) -> list[Problem]:
    idle = min((consumer["idle_s"] for consumer in group["consumers"]), default=None)
    waiting = group["oldest_undelivered_age_s"]
    oldest, lag = group["oldest_pending_age_s"], group["lag"]
    unread = waiting is not None and waiting > READER_GONE_S
    gone = idle is None or idle > READER_GONE_S
    since = "no consumer" if idle is None else f"no consumer read for {dlq.age(idle)}"
    # (holds, check, value, limit, what is wrong)
    candidates = [
        (unread and gone, "no_reader", waiting, READER_GONE_S,
         f"no reader (an entry waiting {dlq.age(waiting or 0)}, {since})"),
        (oldest is not None and oldest > PENDING_TOO_LONG_S, "pending_too_long", oldest,
         PENDING_TOO_LONG_S, f"an entry pending for {dlq.age(oldest or 0)}"),
        (lag > LAG_TOO_HIGH, "lag_too_high", lag, LAG_TOO_HIGH, f"lag {lag} entries"),
    ]  # fmt: skip
    where = f"{stream}, group {group['name']}"
    return [
        Problem(check, stream, group["name"], value, limit, f"{where}: {text}")
        for holds, check, value, limit, text in candidates
        if holds
    ]


def names(client: redis.Redis) -> list[str]:
    """Every stream of the topology; those made per organization as many as exist."""
    found: list[str] = []
    for name in STREAMS:
        if name in streams.PER_ORGANIZATION:
            made = client.scan_iter(match=streams.pattern(name), count=PAGE, _type="stream")
            found += sorted(str(stream) for stream in made)
        else:
            found.append(name)
    return found


def _stream(client: redis.Redis, name: str) -> dict[str, Any]:
    # A stream nobody wrote to yet is listed with length 0 rather than left out: the
    # operator sees every stream of the topology, and one never created is a finding too.
    if not client.exists(name):
        return {"name": name, "length": 0, "groups": []}
    groups = [_group(client, name, info) for info in client.xinfo_groups(name)]
    return {"name": name, "length": client.xlen(name), "groups": groups}


def _group(client: redis.Redis, stream: str, info: dict[str, Any]) -> dict[str, Any]:
    name: str = info["name"]
    consumers = client.xinfo_consumers(stream, name)
    return {
        "name": name,
        "lag": _lag(client, stream, info),
        "pending": int(info["pending"]),
        "oldest_pending_age_s": _oldest_pending_idle_s(client, stream, name),
        "oldest_undelivered_age_s": _oldest_undelivered_age_s(
            client, stream, _text(info["last-delivered-id"])
        ),
        "consumers": [
            {"name": c["name"], "pending": int(c["pending"]), "idle_s": int(c["idle"]) / 1000}
            for c in consumers
        ],
    }


def _lag(client: redis.Redis, stream: str, info: dict[str, Any]) -> int:
    """Entries not yet delivered to the group.

    Redis 7 reports it unless entries were deleted where it would count (the referral
    service deletes intake entries once stored); Redis 6 never does. Then the entries
    after the group's last delivered id are counted here, page by page: slower on a long
    backlog, but null (rejected) would hide the lag exactly when an operator needs it.
    """
    lag = info.get("lag")
    if lag is not None:
        return int(lag)
    count, after = 0, _text(info["last-delivered-id"])
    while page := client.xrange(stream, f"({after}", "+", count=PAGE):
        count += len(page)
        after = _text(page[-1][0])
    return count


def _text(value: bytes | str | None) -> str:
    """An id as text, from a client that decodes answers or one that does not."""
    return value.decode() if isinstance(value, bytes) else str(value)


def _oldest_undelivered_age_s(client: redis.Redis, stream: str, after: str) -> float | None:
    """Seconds since the oldest entry not yet delivered to the group was added (its id's
    time); None when every entry was delivered."""
    first = client.xrange(stream, f"({after}", "+", count=1)
    if not first:
        return None
    added_ms = int(_text(first[0][0]).split("-")[0])
    return max(time.time() * 1000 - added_ms, 0) / 1000


def _oldest_pending_idle_s(client: redis.Redis, stream: str, group: str) -> float | None:
    """Seconds since the oldest pending entry was last delivered; None when nothing is pending.

    Its idle time rather than the age in its id (rejected): an entry written an hour ago
    but delivered a second ago is being worked on; one idle for an hour is stuck.
    """
    summary = client.xpending(stream, group)
    if not summary["pending"]:
        return None
    oldest = client.xpending_range(stream, group, summary["min"], summary["min"], 1)
    # Acknowledged between the two calls: nothing pending that old any more.
    return int(oldest[0]["time_since_delivered"]) / 1000 if oldest else None


def table(report: dict[str, Any]) -> str:
    lines = []
    for stream in report["streams"]:
        lines.append(f"{stream['name']:<32} length {stream['length']}")
        for group in stream["groups"]:
            oldest, waiting = group["oldest_pending_age_s"], group["oldest_undelivered_age_s"]
            waited = "" if waiting is None else f" (oldest waiting {dlq.age(waiting)})"
            idle = "" if oldest is None else f" (oldest idle {dlq.age(oldest)})"
            lines.append(
                f"  group {group['name']}: lag {group['lag']}{waited}, "
                f"pending {group['pending']}{idle}"
            )
            lines.extend(
                f"    {c['name']}: {c['pending']} pending, idle {dlq.age(c['idle_s'])}"
                for c in group["consumers"]
            )
    count = report["dead_letters"]
    lines.append(f"dead letters: {count}" + (" (see `korpu dlq list`)" if count else ""))
    found = report["problems"]
    lines.append(f"problems: {len(found)}" if found else "problems: none")
    lines.extend(f"  {problem['message']}" for problem in found)
    # Names are anyone's with access to Redis: each line stays one line, made safe.
    return "\n".join(output.safe(line, lines=False) for line in lines)
