"""`korpu audit`: the audit trail of personal data, oldest first, for administrators.

Runs where the referral database is (its URL from the referral service's
settings), like `korpu org keys`; `--provider shelter` reads that provider's own
trail of what its case workers' keys read and did. Reading a trail is not itself
recorded: its entries name keys, operators, organizations, referral and task ids,
never a person.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import uuid
from typing import TYPE_CHECKING, Any

from korpu import catalog, output

if TYPE_CHECKING:
    from korpu_runtime import audit as trail

DEFAULT_LIMIT = 1000


class BadInput(Exception):
    """Exit 2: the command line itself is wrong."""


def add_parser(commands: Any) -> None:
    parser = commands.add_parser(
        "audit", help="who read or changed personal data, when, which referral (oldest first)"
    )
    parser.add_argument("--referral", help="only entries about this referral id")
    parser.add_argument(
        "--provider",
        choices=catalog.PROVIDERS,
        help="that provider's trail: what its case workers' keys read and did",
    )
    parser.add_argument(
        "--console",
        action="store_true",
        help="the operators' console's trail: sign-ins, refusals, replays, discards, recoveries",
    )
    parser.add_argument("--task", help="with --provider: only entries about this task id")
    parser.add_argument("--organization", help="only entries by this organization id")
    parser.add_argument("--since", help="from this time: ISO 8601, or back from now: 30m, 2h, 1d")
    parser.add_argument("--action", help="only this action, e.g. person_viewed, access_denied")
    parser.add_argument(
        "--limit", type=int, default=DEFAULT_LIMIT, help=f"the newest N (default {DEFAULT_LIMIT})"
    )
    output.add_json(parser)
    parser.set_defaults(run=command)


def command(args: argparse.Namespace) -> int:
    try:
        where = _filter(args)
    except BadInput as error:
        output.show(f"korpu audit: {error}", sys.stderr)
        return 2
    service = catalog.CONSOLE if args.console else args.provider or "referral"
    subject = catalog.trail(service).subject
    found = catalog.once(service, lambda conn: catalog.trail(service).entries(conn, where))
    if args.json:
        output.show(json.dumps([_shown(entry, subject) for entry in found]))
    else:
        output.show(table(found, subject))
    if len(found) == where.limit:
        # On stderr: a script reading --json gets the entries, a person the hint.
        print(
            f"korpu audit: showing the newest {where.limit}; narrow with --since or raise --limit",
            file=sys.stderr,
        )
    return 0


def _filter(args: argparse.Namespace) -> trail.Filter:
    from korpu import recover
    from korpu_runtime import audit

    if args.limit < 1:
        raise BadInput("--limit must be at least 1")
    if args.console and (args.provider or args.referral or args.task):
        raise BadInput("the console's trail is about accounts and dead letters: no --provider, "
                       "--referral or --task")  # fmt: skip
    if args.provider and args.referral:
        raise BadInput("a provider's trail knows tasks, not referrals: use --task")
    if args.task and not args.provider:
        raise BadInput("--task goes with --provider")
    try:
        since = None if args.since is None else recover.parse_since(args.since)
    except recover.RecoverError as error:
        raise BadInput(str(error)) from None
    # A task id is the referral service's UUID, like a referral's.
    subject = _id(args.referral, "--referral") or _id(args.task, "--task")
    return audit.Filter(
        subject=subject,
        organization_id=_id(args.organization, "--organization"),
        since=since,
        action=args.action,
        limit=args.limit,
    )


def _id(text: str | None, name: str) -> str | None:
    if text is None:
        return None
    try:
        return str(uuid.UUID(text))
    except ValueError:
        raise BadInput(f"{name} must be an id (a UUID)") from None


def _shown(entry: trail.Entry, subject: str) -> dict[str, Any]:
    return {
        "at": entry.at.astimezone(dt.UTC).isoformat(),
        "actor_kind": entry.actor_kind,
        "actor_id": entry.actor_id,
        "organization_id": entry.organization_id,
        subject: entry.subject,
        "action": entry.action,
        "detail": entry.detail,
    }


def table(entries: list[trail.Entry], subject: str = "referral_id") -> str:
    if not entries:
        return "No audit entries."
    about = subject.removesuffix("_id").upper()
    lines = [f"{'AT (UTC)':<20} {'ACTION':<20} {about:<36}  {'WHO':<44} ORGANIZATION"]
    for entry in entries:
        who = f"{entry.actor_kind}:{entry.actor_id}"
        detail = json.dumps(entry.detail, ensure_ascii=False) if entry.detail else ""
        lines.append(
            f"{entry.at.astimezone(dt.UTC):%Y-%m-%d %H:%M:%S} {entry.action:<20} "
            f"{entry.subject or '-':<36}  {who:<44} {entry.organization_id or '-'}"
            + (f"  {detail}" if detail else "")
        )
    return "\n".join(lines)
