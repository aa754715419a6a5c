"""`korpu duplicates list|resolve`: matches across organizations, waiting for an operator.

A referral whose person matches another organization's open case waits in
review; its organization is told nothing of the other case. The operator looks
at both (`korpu audit`, the organizations' own case workers) and decides. What
is printed names referrals and organizations, never a person: neither a name
nor a birth date is shown, whatever is asked.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from korpu import output

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

    from korpu_runtime.unit_of_work import UnitOfWork
    from referral.adapters import reviews as stored

T = TypeVar("T")


def add_parser(commands: Any) -> None:
    parser = commands.add_parser(
        "duplicates", help="referrals in review: a person matched to another organization's case"
    ).add_subparsers(title="duplicates commands")
    listing = parser.add_parser(
        "list", help="every match waiting for a decision, oldest first (no personal data)"
    )
    listing.add_argument(
        "--all", action="store_true", help="decided and withdrawn ones too, with how each ended"
    )
    output.add_json(listing)
    listing.set_defaults(run=list_command)
    resolve = parser.add_parser("resolve", help="decide one: the same person, or two people")
    resolve.add_argument("referral", help="the referral in review, as `list` shows it")
    which = resolve.add_mutually_exclusive_group(required=True)
    which.add_argument(
        "--same-person",
        action="store_true",
        help="close it (reason `duplicate`): the person is looked after in the other case",
    )
    which.add_argument(
        "--different-people",
        action="store_true",
        help="coordinate it as a new case: its tasks are requested now",
    )
    output.add_json(resolve)
    resolve.set_defaults(run=resolve_command)


def list_command(args: argparse.Namespace) -> int:
    from referral.adapters import reviews, sealing

    try:
        found = _in_database(lambda conn: reviews.pending(conn, everything=args.all))
    except sealing.KeyConfigError as error:
        return _fail(str(error), 1)
    if args.json:
        print(json.dumps([_shown(entry) for entry in found]))
    else:
        print(table(found, with_state=args.all))
    return 0


def resolve_command(args: argparse.Namespace) -> int:
    from referral.adapters import audit, sealing
    from referral.domain import exceptions
    from referral.service_layer import duplicate_review

    try:
        referral_id = str(uuid.UUID(args.referral))
    except ValueError:
        return _fail("REFERRAL must be a referral id, as `korpu duplicates list` shows it", 2)
    resolution = (
        duplicate_review.Resolution.SAME_PERSON
        if args.same_person
        else duplicate_review.Resolution.DIFFERENT_PEOPLE
    )
    actor = audit.operator()
    try:
        status = _in_database(
            lambda conn: duplicate_review.resolve(
                _unit_of_work(conn), actor, referral_id, resolution
            )
        )
    except exceptions.NotInReview:
        return _fail(f"referral {referral_id} is not waiting in review", 1)
    except exceptions.CaseEnded:
        return _fail(f"referral {referral_id}: its person was erased; nothing was changed", 1)
    except (sealing.KeyConfigError, sealing.CannotOpen) as error:
        return _fail(f"{error}; nothing was changed", 1)
    if args.json:
        print(json.dumps({"referral_id": referral_id, "resolution": str(resolution),
                          "status": str(status)}))  # fmt: skip
    elif resolution is duplicate_review.Resolution.SAME_PERSON:
        print(f"Referral {referral_id}: closed as a duplicate; its organization sees no link.")
    else:
        print(f"Referral {referral_id}: {status}, its tasks requested as for a new case.")
    return 0


def _in_database(work: Callable[[Connection], T]) -> T:
    from korpu_runtime import logging as runtime_logging
    from referral import bootstrap
    from referral.adapters import tables

    # The command says what it did; the service's own log lines stay off stdout.
    runtime_logging.configure("korpu", level="WARNING")

    # With the keys: coordinating opens the person to ask the providers.
    database = bootstrap.database(bootstrap.Settings())
    try:
        database.create_schema(tables.metadata)
        return database.transaction(work)
    finally:
        database.close()


def _unit_of_work(conn: Connection) -> UnitOfWork:
    from korpu_runtime.unit_of_work import UnitOfWork
    from referral.adapters import tables

    # The running service's relay sends what this writes to the outbox.
    return UnitOfWork(conn, tables.outbox, tables.inbox)


def _shown(entry: stored.Pending) -> dict[str, Any]:
    return {
        "referral_id": entry.referral_id,
        "organization": entry.organization,
        "matches_referral_id": entry.related_referral_id,
        "matches_organization": entry.related_organization,
        "strength": entry.strength,
        "since": _utc(entry.raised_at).isoformat(),
        "state": entry.state,
    }


def table(entries: list[stored.Pending], with_state: bool = False) -> str:
    if not entries:
        return "No referral waits in review."
    lines = [
        f"{'REFERRAL':<36}  {'ORGANIZATION':<24} {'MATCHES':<36}  {'ITS ORGANIZATION':<24} "
        f"{'SINCE (UTC)':<19} {'STRENGTH':<8}" + (" STATE" if with_state else "")
    ]
    for entry in entries:
        lines.append(
            f"{entry.referral_id:<36}  {_plain(entry.organization):<24} "
            f"{entry.related_referral_id or '-':<36}  {_plain(entry.related_organization):<24} "
            f"{_utc(entry.raised_at):%Y-%m-%d %H:%M:%S} {entry.strength:<8}"
            + (f" {entry.state}" if with_state else "")
        )
    return "\n".join(lines)


def _plain(text: str | None) -> str:
    # An organization's name is whatever `korpu org create` was given: no escape
    # sequence of it reaches the operator's terminal.
    return "-" if text is None else output.safe(text, lines=False)[:24]


def _utc(at: dt.datetime) -> dt.datetime:
    return at.astimezone(dt.UTC) if at.tzinfo else at.replace(tzinfo=dt.UTC)


def _fail(message: str, code: int) -> int:
    print(f"korpu duplicates: {message}", file=sys.stderr)
    return code
