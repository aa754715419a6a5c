"""`korpu org keys list|create|revoke`: an organization's API keys, never their hashes."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import uuid
from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy.engine import Connection

from korpu import output

T = TypeVar("T")
REASON_LIMIT = 500


class BadInput(Exception):
    """Exit 2: the command line itself is wrong."""


class NotFound(Exception):
    """Exit 1: no such organization or key."""


def command(name: str, run: Callable[[argparse.Namespace], int]) -> Callable[..., int]:
    """Wrap `run` so that each failure is one line on stderr and its exit code."""

    def wrapped(args: argparse.Namespace) -> int:
        try:
            return run(args)
        except BadInput as error:
            output.show(f"korpu org keys {name}: {error}", sys.stderr)
            return 2
        except NotFound as error:
            output.show(f"korpu org keys {name}: {error}", sys.stderr)
            return 1

    return wrapped


def list_keys(args: argparse.Namespace) -> int:
    from referral.adapters import organizations

    org_id = _id(args.org_id, "ORG_ID")

    def work(conn: Connection) -> tuple[str, list[organizations.Key]]:
        name = organizations.name(conn, org_id)
        if name is None:
            raise NotFound(f"no organization {org_id}")
        return name, organizations.keys(conn, org_id)

    name, found = _once(work)
    if args.json:
        output.show(json.dumps([_shown(key) for key in found]))
        return 0
    # The name is whatever its creator typed: shown safe, on one line.
    print(f"Keys of {output.safe(name, lines=False)}")
    print(f"{'ID':<36}  {'PREFIX':<17} {'SCOPES':<32} {'CREATED':<17} {'LAST USED':<17} REVOKED")
    for key in found:
        shown = _shown(key)
        revoked = "" if key.revoked_at is None else f"{_when(key.revoked_at)} {key.revoked_reason}"
        line = (
            f"{key.id:<36}  {shown['prefix'] + '…':<17} {' '.join(key.scopes):<32} "
            f"{_when(key.created_at):<17} {_when(key.last_used_at) or 'never':<17} {revoked}"
        )
        # A revocation's reason is anyone's text who held the command line.
        print(output.safe(line.rstrip(), lines=False))
    return 0


def create_key(args: argparse.Namespace) -> int:
    from referral.adapters import organizations

    org_id = _id(args.org_id, "ORG_ID")
    scopes = tuple(args.scope or organizations.DEFAULT_SCOPES)
    unknown = sorted(set(scopes) - set(organizations.SCOPES))
    if unknown:
        known = ", ".join(organizations.SCOPES)
        raise BadInput(f"unknown scope {', '.join(unknown)} (known: {known})")

    def work(conn: Connection) -> tuple[str, str]:
        if not organizations.exists(conn, org_id):
            raise NotFound(f"no organization {org_id}")
        return organizations.create_key(conn, org_id, scopes)

    key_id, api_key = _once(work)
    kept = [scope for scope in organizations.SCOPES if scope in scopes]
    if args.json:
        print(json.dumps({"key_id": key_id, "org_id": org_id, "api_key": api_key, "scopes": kept}))
    else:
        print(f"Key {key_id} ({' '.join(kept)})")
        print(f"API key (shown once, stored hashed): {api_key}")
    return 0


def revoke_key(args: argparse.Namespace) -> int:
    from referral.adapters import organizations

    key_id = _id(args.key_id, "KEY_ID")
    reason = (args.reason or "").strip()
    if not 1 <= len(reason) <= REASON_LIMIT:
        raise BadInput(f"give --reason, 1 to {REASON_LIMIT} characters")

    def work(conn: Connection) -> organizations.Key:
        revoked = organizations.revoke(conn, key_id, reason)
        if revoked is None:
            raise NotFound(f"no key {key_id}")
        return revoked

    key = _once(work)
    assert key.revoked_at is not None
    output.show(
        f"Key {key.id} ({_shown(key)['prefix']}…) revoked at {_when(key.revoked_at)}: "
        f"{key.revoked_reason}"
    )
    return 0


def _once(work: Callable[[Connection], T]) -> T:
    from korpu_runtime.database import Database
    from referral import bootstrap
    from referral.adapters import tables

    return Database.once(bootstrap.Settings().database_url, tables.metadata, work)


def _id(text: str, name: str) -> str:
    try:
        return str(uuid.UUID(text))
    except ValueError:
        raise BadInput(f"{name} must be an id as `korpu org create` or `keys list` print") from None


def _shown(key: Any) -> dict[str, Any]:
    from referral.adapters import organizations

    return {
        "id": key.id,
        "prefix": organizations.KEY_PREFIX + key.prefix,
        "scopes": list(key.scopes),
        "created_at": key.created_at.isoformat(),
        "last_used_at": key.last_used_at and key.last_used_at.isoformat(),
        "revoked_at": key.revoked_at and key.revoked_at.isoformat(),
        "revoked_reason": key.revoked_reason,
    }


def _when(at: dt.datetime | None) -> str:
    return "" if at is None else at.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%MZ")
