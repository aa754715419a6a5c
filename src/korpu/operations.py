"""`korpu status`, `korpu dlq` and `korpu trace`: the operator's commands, on the bus."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
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


# `korpu status --watch`: seconds between two looks, by default and at the extremes.
WATCH_INTERVAL_S = 2.0
WATCH_LIMITS_S = (0.1, 3600.0)
# Home and clear to the end of the screen: a redraw in place, on a terminal only.
_CLEAR = "\x1b[H\x1b[J"


def interval(text: str) -> float:
    low, high = WATCH_LIMITS_S
    try:
        seconds = float(text)
    except ValueError:
        seconds = -1.0
    if not low <= seconds <= high:  # also refuses nan
        raise argparse.ArgumentTypeError(f"give seconds from {low:g} to {high:g}")
    return seconds


def status_command(client: redis.Redis, args: argparse.Namespace) -> int:
    from korpu import status

    if args.interval is not None and not args.watch:
        output.show("korpu status: --interval goes with --watch", sys.stderr)
        return 2
    if args.watch:
        return _watch(client, args.json, args.interval or WATCH_INTERVAL_S)
    report = status.collect(client)
    if args.json:
        output.document(report)
    elif args.check:
        # Quiet when all is well, as cron expects; each problem one line otherwise, even
        # when a group's name (anyone's with access to Redis) holds a newline.
        for problem in report["problems"]:
            print(output.safe(f"korpu status: {problem['message']}", lines=False), file=sys.stderr)
    else:
        # Group and consumer names are anyone's with access to Redis: shown safe.
        output.show(status.table(report))
    return 1 if args.check and report["problems"] else 0


def _watch(client: redis.Redis, as_json: bool, seconds: float) -> int:
    """A look every `seconds` until Ctrl-C: redrawn in place on a terminal, one JSON
    document a line with --json, else one report after the other."""
    from korpu import status

    in_place = sys.stdout.isatty() and not as_json
    try:
        while True:
            report = status.collect(client)
            if as_json:
                output.document(report)
            else:
                print(_CLEAR if in_place else "", end="")
                heading = f"korpu status, every {seconds:g} s, at {report['at']} (Ctrl-C stops)"
                output.show(f"{heading}\n{status.table(report)}" + ("" if in_place else "\n"))
                sys.stdout.flush()
            time.sleep(seconds)
    except KeyboardInterrupt:
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
    replayed, forged = [], []
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
            forged.append(letter_id)
            continue
        replayed.append(
            {"id": letter.id, "origin_stream": letter.origin_stream, "entry_id": new_id}
        )
        if not args.json:
            output.show(f"replayed {letter.id} to {letter.origin_stream} as {new_id}")
    if args.json:
        output.document({"replayed": replayed, "forged": forged})
    elif not ids:
        print("No dead letters.")
    return 0


def dlq_discard(client: redis.Redis, args: argparse.Namespace) -> int:
    from korpu import dlq

    letter = dlq.discard(client, args.id, args.reason)
    if args.json:
        shown = {"id": letter.id, "origin_stream": letter.origin_stream, "reason": args.reason}
        output.document({"discarded": shown})
    else:
        output.show(f"discarded {letter.id} (from {letter.origin_stream}): {args.reason}")
    return 0


def trace_id(text: str) -> str:
    from korpu import trace

    try:
        return trace.checked(text)
    except trace.BadQuery as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def trace_command(client: redis.Redis, args: argparse.Namespace) -> int:
    from korpu import trace

    found = trace.find(client, args.id)
    if not found.steps:
        # One line, as cron and scripts expect: what was looked through, and that it was cut.
        cut = ", stopped at the bound" if found.truncated else ""
        where = f"{found.scanned} entries and outbox rows read{cut}"
        output.show(f"korpu trace: nothing found for {found.query} ({where})", sys.stderr)
        return 1
    if args.json:
        output.document(found.to_dict())
    else:
        # Group and consumer names are anyone's with access to Redis: shown safe.
        output.show(trace.table(found))
    return 0
