"""`korpu audit`: the audit trail of personal data, oldest first, for administrators.

Runs where the referral database is (its URL from the referral service's
settings), like `korpu org keys`. Reading the trail is not itself recorded: its
entries name keys, operators, organizations and referral ids, never a person.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import uuid
from typing import TYPE_CHECKING, Any

from korpu import output

if TYPE_CHECKING:
    from referral.adapters import audit as trail

DEFAULT_LIMIT = 1000


class BadInput(Exception):
    """Exit 2: the command line itself is wrong."""


def add_parser(commands: Any) -> None:
    parser = commands.add_parser(
        "audit", help="who read or changed personal data, when, which referral (oldest first)"
    )
    parser.add_argument("--referral", help="only entries about this referral id")
    parser.add_argument("--organization", help="only entries by this organization id")
    parser.add_argument("--since", help="from this time: ISO 8601, or back from now: 30m, 2h, 1d")
    parser.add_argument("--action", help="only this action, e.g. person_viewed, access_denied")
    parser.add_argument(
        "--limit", type=int, default=DEFAULT_LIMIT, help=f"the newest N (default {DEFAULT_LIMIT})"
    )
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.set_defaults(run=command)


def command(args: argparse.Namespace) -> int:
    try:
        where = _filter(args)
    except BadInput as error:
        output.show(f"korpu audit: {error}", sys.stderr)
        return 2
    found = _read(where)
    # An entry's detail holds what an organization or an operator wrote (a reason).
    if args.json:
        output.show(json.dumps([_shown(entry) for entry in found]))
    else:
        output.show(table(found))
    if len(found) == where.limit:
        # On stderr: a script reading --json gets the entries, a person the hint.
        print(
            f"korpu audit: showing the newest {where.limit}; narrow with --since or raise --limit",
            file=sys.stderr,
        )
    return 0


def _filter(args: argparse.Namespace) -> trail.Filter:
    from korpu import recover
    from referral.adapters import audit

    if args.limit < 1:
        raise BadInput("--limit must be at least 1")
    try:
        since = None if args.since is None else recover.parse_since(args.since)
    except recover.RecoverError as error:
        raise BadInput(str(error)) from None
    return audit.Filter(
        referral_id=_id(args.referral, "--referral"),
        organization_id=_id(args.organization, "--organization"),
        since=since,
        action=args.action,
        limit=args.limit,
    )


def _read(where: trail.Filter) -> list[trail.Entry]:
    from korpu_runtime.database import Database
    from referral import bootstrap
    from referral.adapters import audit, tables

    url = bootstrap.Settings().database_url
    return Database.once(url, tables.metadata, lambda conn: audit.entries(conn, where))


def _id(text: str | None, name: str) -> str | None:
    if text is None:
        return None
    try:
        return str(uuid.UUID(text))
    except ValueError:
        raise BadInput(f"{name} must be an id (a UUID)") from None


def _shown(entry: trail.Entry) -> dict[str, Any]:
    return {
        "at": entry.at.astimezone(dt.UTC).isoformat(),
        "actor_kind": entry.actor_kind,
        "actor_id": entry.actor_id,
        "organization_id": entry.organization_id,
        "referral_id": entry.referral_id,
        "action": entry.action,
        "detail": entry.detail,
    }


def table(entries: list[trail.Entry]) -> str:
    if not entries:
        return "No audit entries."
    lines = [f"{'AT (UTC)':<20} {'ACTION':<20} {'REFERRAL':<36}  {'WHO':<44} ORGANIZATION"]
    for entry in entries:
        who = f"{entry.actor_kind}:{entry.actor_id}"
        detail = json.dumps(entry.detail, ensure_ascii=False) if entry.detail else ""
        lines.append(
            f"{entry.at.astimezone(dt.UTC):%Y-%m-%d %H:%M:%S} {entry.action:<20} "
            f"{entry.referral_id or '-':<36}  {who:<44} {entry.organization_id or '-'}"
            + (f"  {detail}" if detail else "")
        )
    return "\n".join(lines)
