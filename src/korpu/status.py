"""`korpu status`: each stream's length and how far behind each consumer group is."""

from __future__ import annotations

from typing import Any

import redis

from korpu import dlq
from korpu_contracts import streams

# Entries per XRANGE call when the lag has to be counted here.
PAGE = 1000
# What the report describes, the dead letters last.
STREAMS = (*streams.ALL, *streams.DEAD_LETTERS_BY_SERVICE.values())


def collect(client: redis.Redis) -> dict[str, Any]:
    described = [_stream(client, name) for name in names(client)]
    letters = set(streams.DEAD_LETTERS_BY_SERVICE.values())
    count = sum(stream["length"] for stream in described if stream["name"] in letters)
    return {"streams": described, "dead_letters": count}


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
    count, after = 0, str(info["last-delivered-id"])
    while page := client.xrange(stream, f"({after}", "+", count=PAGE):
        count += len(page)
        after = str(page[-1][0])
    return count


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
            oldest = group["oldest_pending_age_s"]
            idle = "" if oldest is None else f" (oldest idle {dlq.age(oldest)})"
            lines.append(
                f"  group {group['name']}: lag {group['lag']}, pending {group['pending']}{idle}"
            )
            lines.extend(
                f"    {c['name']}: {c['pending']} pending, idle {dlq.age(c['idle_s'])}"
                for c in group["consumers"]
            )
    count = report["dead_letters"]
    lines.append(f"dead letters: {count}" + (" (see `korpu dlq list`)" if count else ""))
    return "\n".join(lines)
