"""The `korpu` command: up, demo, serve, migrate, org, seed, status, dlq, trace, recover, audit,
erase, keys, duplicates, generate, redis-acl, openapi, users, console."""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from korpu import (
    audit,
    catalog,
    console_keys,
    duplicates,
    keys,
    migrate,
    operations,
    output,
    users,
    webhooks,
)
from korpu_runtime import private

if TYPE_CHECKING:
    from korpu.supervisor import Stack


def main(argv: list[str] | None = None) -> None:
    # Before anything is written: every file this command, the supervisor or a
    # service makes is its owner's alone (korpu_runtime.private).
    private.restrict_new_files()
    parser = _parser()
    args = parser.parse_args(argv)
    if args.data_dir is not None:
        os.environ["KORPU_DATA_DIR"] = str(Path(args.data_dir).resolve())
    if args.keys_dir is not None:
        os.environ["KORPU_KEYS_DIR"] = str(Path(args.keys_dir).resolve())
    if not hasattr(args, "run"):
        parser.print_help()
        raise SystemExit(2)
    try:
        code = args.run(args) or 0
        sys.stdout.flush()
    except BrokenPipeError:
        # Its reader went (`korpu status --watch --json | head -3`): done, quietly. Rejected:
        # Python's traceback and its complaint at exit, in a script's log.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        code = 0
    raise SystemExit(code)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="korpu", description=__doc__)
    parser.add_argument("--data-dir", help="where the databases live (default ./.korpu)")
    parser.add_argument(
        "--keys-dir",
        help="where the demo's keys live, to back up apart from the data (default DATA_DIR/keys)",
    )
    commands = parser.add_subparsers(title="commands")

    up = commands.add_parser("up", help="run every service as its own process")
    output.add_json(up)
    up.set_defaults(run=_up)

    demo = commands.add_parser("demo", help="run the services, load a demo, show the plans")
    demo.add_argument("--directory", help="seed file (default: deploy/demo-directory.json)")
    demo.set_defaults(run=_demo)

    serve = commands.add_parser("serve", help="run one service in this process")
    serve.add_argument("service", choices=catalog.PROCESSES)
    serve.set_defaults(run=_serve)

    seed = commands.add_parser("seed", help="load the provider directory from a JSON file")
    seed.add_argument("file", type=Path)
    output.add_json(seed)
    seed.set_defaults(run=_seed)

    openapi = commands.add_parser("openapi", help="write each service's OpenAPI document")
    output.add_json(openapi)
    openapi.add_argument("--check", action="store_true", help="fail when docs/openapi is stale")
    openapi.set_defaults(run=lambda args: _openapi(args.check, args.json))

    generate = commands.add_parser(
        "generate",
        help="write every file made from the list of services: compose, databases, Redis "
        "users, AsyncAPI, event schemas, OpenAPI (docs/adding-a-provider.md)",
    )
    output.add_json(generate)
    generate.add_argument("--check", action="store_true", help="fail when a file is stale")
    generate.set_defaults(run=lambda args: _generate(args.check, args.json))

    redis_acl = commands.add_parser(
        "redis-acl", help="write deploy/redis-users.acl, each service's Redis user"
    )
    output.add_json(redis_acl)
    redis_acl.add_argument("--check", action="store_true", help="fail when the file is stale")
    redis_acl.set_defaults(run=lambda args: _redis_acl(args.check, args.json))

    org = commands.add_parser(
        "org", help="organizations: agencies, or a provider's case workers (--provider)"
    ).add_subparsers(title="org commands")
    _org_parser(org)

    status = commands.add_parser(
        "status", help="streams, consumer groups, lag, dead letters, and what is wrong"
    )
    output.add_json(status)
    how = status.add_mutually_exclusive_group()
    how.add_argument(
        "--check",
        action="store_true",
        help="exit 1 when an alert rule would fire (each problem a line on stderr), else 0",
    )
    how.add_argument("--watch", action="store_true", help="look again every few seconds")
    status.add_argument(
        "--interval",
        type=operations.interval,
        metavar="S",
        help=f"with --watch: seconds between looks (default {operations.WATCH_INTERVAL_S:g})",
    )
    status.set_defaults(run=operations.with_redis(operations.status_command))

    dlq = commands.add_parser("dlq", help="dead letters").add_subparsers(title="dlq commands")
    listing = dlq.add_parser("list", help="every dead letter, oldest first")
    output.add_json(listing)
    listing.set_defaults(run=operations.with_redis(operations.dlq_list))
    show = dlq.add_parser("show", help="one dead letter in full, with its event")
    show.add_argument("id")
    output.add_json(show)
    show.set_defaults(run=operations.with_redis(operations.dlq_show))
    replay = dlq.add_parser("replay", help="put dead letters back on their streams")
    which = replay.add_mutually_exclusive_group(required=True)
    which.add_argument("id", nargs="?")
    which.add_argument("--all", action="store_true", help="every dead letter")
    output.add_json(replay)
    replay.set_defaults(run=operations.with_redis(operations.dlq_replay))
    discard = dlq.add_parser("discard", help="drop a dead letter that must never be processed")
    discard.add_argument("id")
    discard.add_argument(
        "--reason", required=True, type=operations.reason_text, help="why (1-500 characters)"
    )
    output.add_json(discard)
    discard.set_defaults(run=operations.with_redis(operations.dlq_discard))

    trace = commands.add_parser(
        "trace",
        help="every event about a referral, event or correlation id, and where each stands now",
    )
    trace.add_argument("id", type=operations.trace_id)
    output.add_json(trace)
    trace.set_defaults(run=operations.with_redis(operations.trace_command))

    recover = commands.add_parser(
        "recover", help="send again every event written since TIME (after Redis lost its data)"
    )
    recover.add_argument(
        "--since", required=True, help="ISO 8601 time (UTC if no zone) or a span: 30m, 2h, 1d"
    )
    recover.add_argument(
        "--dry-run", action="store_true", help="change nothing: count what would be sent again"
    )
    output.add_json(recover)
    recover.set_defaults(run=_recover)

    erase = commands.add_parser(
        "erase", help="erase a person's data now, on a prosecutor's or court decision"
    )
    erase.add_argument("referral", help="the referral id")
    erase.add_argument(
        "--reason", required=True, help="the decision's reference, never the person's name"
    )
    output.add_json(erase)
    erase.set_defaults(run=_erase)

    audit.add_parser(commands)
    keys.add_parser(commands)
    duplicates.add_parser(commands)
    migrate.add_parser(commands)
    users.add_parser(commands)
    webhooks.add_parser(commands)
    console = commands.add_parser(
        "console", help="the operators' console: its own keys at the providers"
    ).add_subparsers(title="console commands")
    console_keys.add_parser(console)
    return parser


def _org_parser(org: Any) -> None:
    from korpu import org_keys

    create = org.add_parser("create", help="create an organization and its first API key")
    create.add_argument("name")
    org_keys.add_provider_option(create)
    create.add_argument(
        "--coordinator",
        action="store_true",
        help="the national coordinator: its first key holds cases:coordinate and "
        "statistics:read, and refers no one",
    )
    output.add_json(create)
    create.set_defaults(run=org_keys.command("create", org_keys.create_org))
    listing = org.add_parser("list", help="every organization: id, name, creation")
    org_keys.add_provider_option(listing)
    output.add_json(listing)
    listing.set_defaults(run=org_keys.command("list", org_keys.list_orgs))

    keys = org.add_parser("keys", help="an organization's API keys").add_subparsers(
        title="org keys commands"
    )
    listing = keys.add_parser("list", help="every key: prefix, scopes, last use, revocation")
    listing.add_argument("org_id")
    org_keys.add_provider_option(listing)
    output.add_json(listing)
    listing.set_defaults(run=org_keys.command("keys list", org_keys.list_keys))
    create = keys.add_parser("create", help="another key (the others stay valid); shown once")
    create.add_argument("org_id")
    org_keys.add_provider_option(create)
    create.add_argument(
        "--scope",
        action="append",
        help=(
            "agencies: referrals:submit, referrals:read, persons:read or statistics:read "
            "(default: the first three); providers: directory:read, tasks:read or tasks:act "
            "(default: all three). Repeat for several"
        ),
    )
    create.add_argument(
        "--rate-per-minute", metavar="N", help="this key's own rate limit (default: the service's)"
    )
    create.add_argument(
        "--bus",
        action="store_true",
        help="an agency's bus key, to sign its intake entries with (shown once)",
    )
    output.add_json(create)
    create.set_defaults(run=org_keys.command("keys create", org_keys.create_key))
    limit = keys.add_parser("limit", help="set a key's own rate limit, or back to the default")
    limit.add_argument("key_id")
    org_keys.add_provider_option(limit)
    rate = limit.add_mutually_exclusive_group(required=True)
    rate.add_argument("--rate-per-minute", metavar="N", help="requests a minute, 1 or more")
    rate.add_argument("--default", action="store_true", help="the service's default again")
    output.add_json(limit)
    limit.set_defaults(run=org_keys.command("keys limit", org_keys.limit_key))
    revoke = keys.add_parser("revoke", help="refuse a key from now on")
    revoke.add_argument("key_id")
    org_keys.add_provider_option(revoke)
    revoke.add_argument("--reason", help="why (1-500 characters, required)")
    revoke.add_argument("--bus", action="store_true", help="KEY_ID is an agency's bus key")
    output.add_json(revoke)
    revoke.set_defaults(run=org_keys.command("keys revoke", org_keys.revoke_key))
    users = org.add_parser(
        "redis-users",
        help="set the organizations' Redis users (one per bus key's organization) on the "
        "Redis in use again, signed in as its admin (after it restarted without them)",
    )
    output.add_json(users)
    users.set_defaults(run=org_keys.command("redis-users", org_keys.redis_users))


def _data_dir() -> Path:
    return Path(os.environ.get("KORPU_DATA_DIR", ".korpu"))


def _serve(args: argparse.Namespace) -> int:
    from korpu_runtime import http
    from korpu_runtime import logging as runtime_logging
    from korpu_runtime.settings import SettingsRefused

    module = catalog.bootstrap(args.service)
    settings = module.Settings()
    # Set up before the service is built, so what building it logs (a data folder
    # tightened, a key file moved) is a JSON line like the rest.
    runtime_logging.configure(settings.service, settings.log_level)
    try:
        app = module.build_app(settings)
    except SettingsRefused as error:
        output.show(f"korpu serve {args.service}: {error}", sys.stderr)
        return 2
    http.serve(app, settings.http_host, settings.http_port)
    return 0


def _up(args: argparse.Namespace) -> int:
    from korpu.supervisor import Stack, StartError

    stopped = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stopped.set())
    try:
        with Stack(_data_dir(), redis_url=os.environ.get("REDIS_URL")) as stack:
            _started(stack, args.json)
            stopped.wait()
            # With --json, stdout holds the one document; the rest is for a person.
            print("Stopping...", file=sys.stderr if args.json else sys.stdout)
    except StartError as error:
        output.show(f"korpu up: {error}", sys.stderr)
        return 1
    return 0


def _started(stack: Stack, as_json: bool) -> None:
    """What `korpu up` started, once every service is ready: for a person, or a script."""
    passwords = stack.redis_passwords_file
    if as_json:
        services = {
            name: {"url": process.url, "log": str(process.log_path)}
            for name, process in stack.processes.items()
        }
        output.document(
            {
                "redis": stack.redis_address,  # never its password
                "redis_passwords_file": passwords and str(passwords),
                "services": services,
            }
        )
        return
    print(f"Redis: {stack.redis_address}")
    if passwords is not None:
        print(f"       a user per service, passwords in {passwords}")
    for name, process in stack.processes.items():
        print(f"{name:<20} {process.url}  (log: {process.log_path})")
    print("Ctrl-C stops everything.", flush=True)


def _demo(args: argparse.Namespace) -> int:
    from korpu import demo
    from korpu.supervisor import StartError

    try:
        return demo.run(_data_dir(), Path(args.directory) if args.directory else None)
    except StartError as error:
        output.show(f"korpu demo: {error}", sys.stderr)
        return 1


def _seed(args: argparse.Namespace) -> int:
    from korpu import seed

    try:
        counts = seed.load(seed.read(args.file))
    except seed.SeedError as error:
        output.show(f"korpu seed: {error}", sys.stderr)
        return 2
    if args.json:
        output.document({"loaded": counts})
    else:
        print(", ".join(f"{count} {key}" for key, count in counts.items()) + " loaded")
    return 0


def _openapi(check: bool, as_json: bool) -> int:
    from korpu import openapi

    return openapi.write_or_check(check, as_json)


def _generate(check: bool, as_json: bool) -> int:
    from korpu import generate

    return generate.write_or_check(check, as_json)


def _redis_acl(check: bool, as_json: bool) -> int:
    from korpu import redis_acl

    return redis_acl.write_or_check(check, as_json)


def _recover(args: argparse.Namespace) -> int:
    from korpu import recover

    def told(done: recover.Recovered, number: int) -> None:
        where = "" if done.found else " (no database yet)"
        of = f"({number} of {len(catalog.SERVICES)})"
        output.progress(
            "recover", f"{done.service}: {done.events} events to send again{where} {of}"
        )

    try:
        since = recover.parse_since(args.since)
        results = recover.recover(since, told, dry_run=args.dry_run)
    except recover.RecoverError as error:
        output.show(f"korpu recover: {error}", sys.stderr)
        return 2
    if args.json:
        services = {r.service: {"events": r.events, "database_found": r.found} for r in results}
        output.document({"since": since.isoformat(), "dry_run": args.dry_run, "services": services})
        return 0
    if args.dry_run:
        print(f"Dry run: nothing changed. Events written since {since.isoformat()} that would")
        print("be sent again:")
    else:
        print(f"Events written since {since.isoformat()}, to be sent again:")
    for result in results:
        found = "" if result.found else "  (no database yet)"
        output.show(f"  {result.service:<10} {result.events}{found}")
    if not args.dry_run:
        print(
            "Running services send them within a few seconds; readers drop what they already did."
        )
    shortest = min((r.retention_hours for r in results if r.found), default=0.0)
    if shortest and since < datetime.now(UTC) - timedelta(hours=shortest):
        print(f"Note: events published more than {shortest:g} hours ago were purged.")
    return 0


def _erase(args: argparse.Namespace) -> int:
    from korpu import erase

    return erase.command(args)
