"""`korpu status` and `korpu dlq`: the operator's commands, on the Redis the services use."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING

from korpu import output

if TYPE_CHECKING:
    import redis


def redis_url() -> str:
    """REDIS_URL when set; else the Redis `korpu up` started for this data folder, signed in
    as the operator (its password from the keys folder); else the services' own default."""
    from korpu import redis_acl
    from korpu_runtime import settings

    known = known_redis_url(redis_acl.OPERATOR)
    return known or settings.ServiceSettings(service="korpu").redis_url


def known_redis_url(user: str) -> str | None:
    """REDIS_URL when set (signed in as whoever it names); else the Redis `korpu up`
    started for this data folder, signed in as `user`; else None."""
    from korpu import embedded_redis, redis_acl
    from korpu_runtime import settings

    found = settings.ServiceSettings(service="korpu")
    if os.environ.get("REDIS_URL"):
        return found.redis_url
    address = embedded_redis.recorded_address(found.data_dir)
    passwords = redis_acl.stored_passwords(found.keys_dir)
    if address is not None and passwords is not None and user in passwords:
        return embedded_redis.with_credentials(address, user, passwords[user])
    return None


def with_redis(
    command: Callable[[redis.Redis, argparse.Namespace], int],
) -> Callable[[argparse.Namespace], int]:
    """Run `command` with a client; Redis errors become one line and exit 2, no traceback."""

    def run(args: argparse.Namespace) -> int:
        import redis

        from korpu import dlq

        url = redis_url()
        try:
            # Only parses the URL; the first command connects.
            client = redis.Redis.from_url(
                url, decode_responses=True, socket_connect_timeout=5, socket_timeout=30
            )
        except ValueError as error:
            return _unreachable(url, error)
        try:
            with client:
                return command(client, args)
        except (redis.ConnectionError, redis.TimeoutError) as error:
            return _unreachable(url, error)
        except dlq.UnknownDeadLetter as error:
            output.show(f"korpu: no dead letter {error} (see `korpu dlq list`)", sys.stderr)
            return 1
        except dlq.ForgedDeadLetter as error:
            output.show(f"korpu: not replayed, forged dead letter {error}", sys.stderr)
            return 1

    return run


def _unreachable(url: str, error: Exception) -> int:
    from korpu import embedded_redis

    reason = " ".join(str(error).split())
    address = embedded_redis.without_password(url)
    output.show(f"korpu: cannot reach Redis at {address}: {reason}", sys.stderr)
    return 2


def reason_text(text: str) -> str:
    if not 1 <= len(text.strip()) <= 500:
        raise argparse.ArgumentTypeError("give a reason of 1 to 500 characters")
    return text.strip()


def status_command(client: redis.Redis, args: argparse.Namespace) -> int:
    from korpu import status

    report = status.collect(client)
    # Group and consumer names are anyone's with access to Redis: shown safe.
    output.show(json.dumps(report) if args.json else status.table(report))
    return 0


def dlq_list(client: redis.Redis, args: argparse.Namespace) -> int:
    from korpu import dlq

    letters = dlq.list_all(client)
    output.show(
        json.dumps([letter.summary() for letter in letters]) if args.json else dlq.table(letters)
    )
    return 0


def dlq_show(client: redis.Redis, args: argparse.Namespace) -> int:
    from korpu import dlq

    letter = dlq.get(client, args.id)
    shown = json.dumps(letter.full(), ensure_ascii=False) if args.json else dlq.describe(letter)
    output.show(shown)
    return 0


def dlq_replay(client: redis.Redis, args: argparse.Namespace) -> int:
    from korpu import dlq

    ids = [letter.id for letter in dlq.list_all(client)] if args.all else [args.id]
    for letter_id in ids:
        try:
            letter, new_id = dlq.replay(client, letter_id)
        except dlq.UnknownDeadLetter:
            if not args.all:
                raise
            continue  # resolved by someone else since the listing: nothing left to do
        except dlq.ForgedDeadLetter as error:
            if not args.all:
                raise
            output.show(f"korpu: not replayed, forged dead letter {error}", sys.stderr)
            continue
        output.show(f"replayed {letter.id} to {letter.origin_stream} as {new_id}")
    if not ids:
        print("No dead letters.")
    return 0


def dlq_discard(client: redis.Redis, args: argparse.Namespace) -> int:
    from korpu import dlq

    letter = dlq.discard(client, args.id, args.reason)
    output.show(f"discarded {letter.id} (from {letter.origin_stream}): {args.reason}")
    return 0
