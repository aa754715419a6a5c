"""The same message hops as one Körpü referral, in hand-written redis-py with no database.

Roles, each its own process: `referral` reads submissions and task updates,
`shelter` / `employment` / `legal_aid` answer requests. The benchmark times this
beside the real services to show what the framework and the databases cost.
"""

from __future__ import annotations

import json
import sys

import redis

SUBMIT = "bench.submit"
REQUESTS = {name: f"bench.{name}.requests" for name in ("shelter", "employment", "legal_aid")}
UPDATES = "bench.updates"
STATUS = "bench.status"
GROUP = "bench"


def _ensure(client: redis.Redis, stream: str) -> None:
    try:
        client.xgroup_create(stream, GROUP, id="0", mkstream=True)
    except redis.ResponseError as error:
        if "BUSYGROUP" not in str(error):
            raise


def _loop(client: redis.Redis, streams: list[str], handle: object) -> None:
    for stream in streams:
        _ensure(client, stream)
    while True:
        answer = client.xreadgroup(
            GROUP, "c", {stream: ">" for stream in streams}, count=100, block=1000
        )
        for stream, entries in answer or []:
            pipe = client.pipeline(transaction=False)
            for entry_id, fields in entries:
                handle(pipe, stream.decode(), json.loads(fields[b"event"]))  # type: ignore[operator]
                pipe.xack(stream, GROUP, entry_id)
            pipe.execute()


def referral(client: redis.Redis) -> None:
    answered: dict[str, int] = {}

    def handle(pipe: redis.client.Pipeline, stream: str, event: dict[str, str]) -> None:
        if stream == SUBMIT:
            for name, target in REQUESTS.items():
                pipe.xadd(target, {"event": json.dumps({**event, "service": name})})
            return
        answered[event["id"]] = answered.get(event["id"], 0) + 1
        if answered[event["id"]] == len(REQUESTS):
            pipe.xadd(STATUS, {"event": json.dumps({"id": event["id"], "status": "coordinated"})})

    _loop(client, [SUBMIT, UPDATES], handle)


def provider(client: redis.Redis, name: str) -> None:
    def handle(pipe: redis.client.Pipeline, _stream: str, event: dict[str, str]) -> None:
        pipe.xadd(UPDATES, {"event": json.dumps({"id": event["id"], "status": "accepted"})})

    _loop(client, [REQUESTS[name]], handle)


if __name__ == "__main__":
    role, url = sys.argv[1], sys.argv[2]
    connection = redis.Redis.from_url(url)
    referral(connection) if role == "referral" else provider(connection, role)
