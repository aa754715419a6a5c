"""`korpu webhooks list|deliveries|redeliver`: agencies' webhook endpoints, their delivery log,
and sending again what a receiver missed (docs/webhooks.md).

Through the referral service's admin module only. Nothing printed holds a secret
or a person: a delivery names its event type, referral id and status.
"""

from __future__ import annotations

import argparse
import sys
import uuid
from collections.abc import Callable
from typing import Any

from korpu import output, recover

LOG_LIMIT = 100


def add_parser(commands: Any) -> None:
    parser = commands.add_parser(
        "webhooks", help="agencies' webhook endpoints, their delivery log, redelivery"
    ).add_subparsers(title="webhooks commands")
    listing = parser.add_parser("list", help="an organization's endpoints (never their secrets)")
    listing.add_argument("org", help="the organization's id, as `korpu org list` prints it")
    output.add_json(listing)
    listing.set_defaults(run=_guarded(list_command))
    log = parser.add_parser("deliveries", help="an endpoint's newest deliveries and attempts")
    log.add_argument("endpoint", help="the endpoint's id, as `korpu webhooks list` prints it")
    output.add_json(log)
    log.set_defaults(run=_guarded(deliveries_command))
    again = parser.add_parser(
        "redeliver",
        help="send again from the start of the schedule: one delivery, or an endpoint's "
        "deliveries made in a time range (--since); enables an endpoint a 410 disabled",
    )
    again.add_argument("id", help="a delivery's id; with --since, an endpoint's")
    again.add_argument("--since", help="from this time: ISO 8601, or back from now: 30m, 2h, 1d")
    again.add_argument("--until", help="up to (not including) this time; default now")
    output.add_json(again)
    again.set_defaults(run=_guarded(redeliver_command))


def list_command(args: argparse.Namespace) -> int:
    from referral import admin

    found = admin.webhook_endpoints_of(_id(args.org, "ORG"))
    if args.json:
        output.document(found)
        return 0
    if not found:
        print("No webhook endpoint.")
        return 0
    print(f"{'ID':<36}  {'STATE':<8} {'EVENTS':<32} URL")
    for endpoint in found:
        state = "disabled" if endpoint["disabled_at"] else "enabled"
        events = ",".join(endpoint["events"]) or "all"
        output.show(f"{endpoint['id']:<36}  {state:<8} {events:<32} {endpoint['url']}")
    return 0


def deliveries_command(args: argparse.Namespace) -> int:
    from referral import admin

    found = admin.webhook_log(_id(args.endpoint, "ENDPOINT_ID"))
    if args.json:
        output.document(found)
        return 0
    if not found:
        print("No delivery yet.")
        return 0
    print(
        f"{'DELIVERY':<36}  {'CREATED (UTC)':<19} {'STATE':<9} {'ATTEMPTS':<8} {'LAST':<6} REFERRAL"
    )
    for delivery in found:
        attempts = delivery["attempts"]
        last = attempts[-1]["status_code"] or attempts[-1]["error"] if attempts else "-"
        print(
            f"{delivery['id']:<36}  {delivery['created_at'][:19]:<19} {delivery['state']:<9} "
            f"{len(attempts):<8} {last!s:<6} {delivery['referral_id']}"
        )
    return 0


def redeliver_command(args: argparse.Namespace) -> int:
    from referral import admin

    if args.since is None:
        if args.until is not None:
            return _fail("--until goes with --since", 2)
        endpoint_id = admin.redeliver_one(_id(args.id, "DELIVERY_ID"))
        result: dict[str, Any] = {"endpoint_id": endpoint_id, "redelivered": 1}
    else:
        since = recover.parse_since(args.since)
        until = None if args.until is None else recover.parse_since(args.until)
        count = admin.redeliver_range(_id(args.id, "ENDPOINT_ID"), since, until)
        result = {"endpoint_id": args.id, "redelivered": count}
    if args.json:
        output.document(result)
    else:
        print(f"{result['redelivered']} deliveries to endpoint {result['endpoint_id']} due again.")
    return 0


class _BadId(ValueError):
    pass


def _guarded(run: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    """`run`, with each failure one line on stderr and its exit code: 2 for the command
    line, 1 for something not found."""

    def wrapped(args: argparse.Namespace) -> int:
        from referral import admin

        try:
            return run(args)
        except (_BadId, recover.RecoverError) as error:
            return _fail(str(error), 2)
        except admin.NotFound as error:
            return _fail(str(error), 1)

    return wrapped


def _id(text: str, name: str) -> str:
    try:
        return str(uuid.UUID(text))
    except ValueError:
        raise _BadId(f"{name} must be an id, as `korpu webhooks` prints them") from None


def _fail(message: str, code: int) -> int:
    output.show(f"korpu webhooks: {message}", sys.stderr)
    return code
