"""The `korpu` command: up, demo, serve, org create, seed, status, dlq."""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
import urllib.parse
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from korpu import catalog

if TYPE_CHECKING:
    import redis


def main(argv: list[str] | None = None) -> None:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.data_dir is not None:
        os.environ["KORPU_DATA_DIR"] = str(Path(args.data_dir).resolve())
    if not hasattr(args, "run"):
        parser.print_help()
        raise SystemExit(2)
    raise SystemExit(args.run(args) or 0)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="korpu", description=__doc__)
    parser.add_argument("--data-dir", help="where the databases live (default ./.korpu)")
    commands = parser.add_subparsers(title="commands")

    up = commands.add_parser("up", help="run every service as its own process")
    up.set_defaults(run=_up)

    demo = commands.add_parser("demo", help="run the services, load a demo, show the plans")
    demo.add_argument("--directory", help="seed file (default: deploy/demo-directory.json)")
    demo.set_defaults(run=_demo)

    serve = commands.add_parser("serve", help="run one service in this process")
    serve.add_argument("service", choices=catalog.SERVICES)
    serve.set_defaults(run=_serve)

    seed = commands.add_parser("seed", help="load the provider directory from a JSON file")
    seed.add_argument("file", type=Path)
    seed.set_defaults(run=_seed)

    openapi = commands.add_parser("openapi", help="write each service's OpenAPI document")
    openapi.add_argument("--check", action="store_true", help="fail when docs/openapi is stale")
    openapi.set_defaults(run=lambda args: _openapi(args.check))

    org = commands.add_parser("org", help="organizations").add_subparsers(title="org commands")
    create = org.add_parser("create", help="create an organization and its first API key")
    create.add_argument("name")
    create.add_argument("--json", action="store_true", help="print JSON")
    create.set_defaults(run=_org_create)

    status = commands.add_parser("status", help="streams, consumer groups, lag, dead letters")
    status.add_argument("--json", action="store_true", help="print JSON")
    status.set_defaults(run=_with_redis(_status))

    dlq = commands.add_parser("dlq", help="dead letters").add_subparsers(title="dlq commands")
    listing = dlq.add_parser("list", help="every dead letter, oldest first")
    listing.add_argument("--json", action="store_true", help="print JSON")
    listing.set_defaults(run=_with_redis(_dlq_list))
    show = dlq.add_parser("show", help="one dead letter in full, with its event")
    show.add_argument("id")
    show.add_argument("--json", action="store_true", help="print JSON")
    show.set_defaults(run=_with_redis(_dlq_show))
    replay = dlq.add_parser("replay", help="put dead letters back on their streams")
    which = replay.add_mutually_exclusive_group(required=True)
    which.add_argument("id", nargs="?")
    which.add_argument("--all", action="store_true", help="every dead letter")
    replay.set_defaults(run=_with_redis(_dlq_replay))
    discard = dlq.add_parser("discard", help="drop a dead letter that must never be processed")
    discard.add_argument("id")
    discard.add_argument("--reason", required=True, type=_reason, help="why (1-500 characters)")
    discard.set_defaults(run=_with_redis(_dlq_discard))
    return parser


def _data_dir() -> Path:
    return Path(os.environ.get("KORPU_DATA_DIR", ".korpu"))


def _serve(args: argparse.Namespace) -> None:
    from korpu_runtime import http

    module = catalog.bootstrap(args.service)
    settings = module.Settings()
    http.serve(module.build_app(settings), settings.http_host, settings.http_port)


def _up(_args: argparse.Namespace) -> int:
    from korpu.supervisor import Stack, StartError

    stopped = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stopped.set())
    try:
        with Stack(_data_dir(), redis_url=os.environ.get("REDIS_URL")) as stack:
            print(f"Redis: {stack.redis_url}")
            for name, process in stack.processes.items():
                print(f"{name:<10} {process.url}  (log: {process.log_path})")
            print("Ctrl-C stops everything.")
            stopped.wait()
            print("Stopping...")
    except StartError as error:
        print(f"korpu up: {error}", file=sys.stderr)
        return 1
    return 0


def _demo(args: argparse.Namespace) -> int:
    from korpu import demo
    from korpu.supervisor import StartError

    try:
        return demo.run(_data_dir(), Path(args.directory) if args.directory else None)
    except StartError as error:
        print(f"korpu demo: {error}", file=sys.stderr)
        return 1


def _seed(args: argparse.Namespace) -> int:
    from korpu import seed

    try:
        counts = seed.load(seed.read(args.file))
    except seed.SeedError as error:
        print(f"korpu seed: {error}", file=sys.stderr)
        return 2
    print(", ".join(f"{count} {key}" for key, count in counts.items()) + " loaded")
    return 0


def _openapi(check: bool) -> int:
    from korpu import openapi

    return openapi.write_or_check(check)


def _org_create(args: argparse.Namespace) -> int:
    from referral import bootstrap

    organization_id, api_key = bootstrap.create_organization(bootstrap.Settings(), args.name)
    result: dict[str, Any] = {"org_id": organization_id, "api_key": api_key}
    if args.json:
        print(json.dumps(result))
    else:
        print(f"Organization {args.name}: {organization_id}")
        print(f"API key (shown once, stored hashed): {api_key}")
    return 0


def _redis_url() -> str:
    from korpu_runtime import settings

    # The services' own default, so the CLI looks where a service without REDIS_URL writes.
    default: str = settings.ServiceSettings.model_fields["redis_url"].default
    return os.environ.get("REDIS_URL") or default


def _without_password(url: str) -> str:
    parts = urllib.parse.urlsplit(url)
    if not parts.password:
        return url
    return parts._replace(netloc=parts.netloc.replace(f":{parts.password}@", ":***@")).geturl()


def _with_redis(
    command: Callable[[redis.Redis, argparse.Namespace], int],
) -> Callable[[argparse.Namespace], int]:
    """Run `command` with a client; Redis errors become one line and exit 2, no traceback."""

    def run(args: argparse.Namespace) -> int:
        import redis

        from korpu import dlq

        url = _redis_url()
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
            print(f"korpu: no dead letter {error} (see `korpu dlq list`)", file=sys.stderr)
            return 1

    return run


def _unreachable(url: str, error: Exception) -> int:
    reason = " ".join(str(error).split())
    print(f"korpu: cannot reach Redis at {_without_password(url)}: {reason}", file=sys.stderr)
    return 2


def _reason(text: str) -> str:
    if not 1 <= len(text.strip()) <= 500:
        raise argparse.ArgumentTypeError("give a reason of 1 to 500 characters")
    return text.strip()


def _status(client: redis.Redis, args: argparse.Namespace) -> int:
    from korpu import status

    report = status.collect(client)
    print(json.dumps(report) if args.json else status.table(report))
    return 0


def _dlq_list(client: redis.Redis, args: argparse.Namespace) -> int:
    from korpu import dlq

    letters = dlq.list_all(client)
    print(json.dumps([letter.summary() for letter in letters]) if args.json else dlq.table(letters))
    return 0


def _dlq_show(client: redis.Redis, args: argparse.Namespace) -> int:
    from korpu import dlq

    letter = dlq.get(client, args.id)
    print(json.dumps(letter.full(), ensure_ascii=False) if args.json else dlq.describe(letter))
    return 0


def _dlq_replay(client: redis.Redis, args: argparse.Namespace) -> int:
    from korpu import dlq

    ids = [letter.id for letter in dlq.list_all(client)] if args.all else [args.id]
    for letter_id in ids:
        try:
            letter, new_id = dlq.replay(client, letter_id)
        except dlq.UnknownDeadLetter:
            if not args.all:
                raise
            continue  # resolved by someone else since the listing: nothing left to do
        print(f"replayed {letter.id} to {letter.origin_stream} as {new_id}")
    if not ids:
        print("No dead letters.")
    return 0


def _dlq_discard(client: redis.Redis, args: argparse.Namespace) -> int:
    from korpu import dlq

    letter = dlq.discard(client, args.id, args.reason)
    print(f"discarded {letter.id} (from {letter.origin_stream}): {args.reason}")
    return 0
