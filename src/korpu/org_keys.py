"""`korpu org create|list` and `korpu org keys list|create|limit|revoke`: organizations and their
API keys, never the keys' hashes.

Agencies' organizations live in the referral service's database; a provider's case
workers' organizations in that provider's own (`--provider shelter`). Each service
checks its own keys, so a key is only ever good at the service it was made for.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple, TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from korpu import catalog, output
from korpu_runtime import api_keys

T = TypeVar("T")
REASON_LIMIT = 500
NAME_LIMIT = 200
RATE_LIMIT = 1_000_000  # requests a minute: a typo's ceiling, far above any real need
AGENCIES = "referral"


class BadInput(Exception):
    """Exit 2: the command line itself is wrong."""


class NotFound(Exception):
    """Exit 1: no such organization or key, or one by that name already."""


def add_provider_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--provider",
        choices=catalog.PROVIDERS,
        help="a provider's case workers' organizations (default: the agencies')",
    )


def command(name: str, run: Callable[[argparse.Namespace], int]) -> Callable[..., int]:
    """Wrap `run` so that each failure is one line on stderr and its exit code."""

    def wrapped(args: argparse.Namespace) -> int:
        try:
            return run(args)
        except BadInput as error:
            output.show(f"korpu org {name}: {error}", sys.stderr)
            return 2
        except NotFound as error:
            output.show(f"korpu org {name}: {error}", sys.stderr)
            return 1

    return wrapped


def create_organization(
    service: str, name: str, scopes: tuple[str, ...] | None = None
) -> tuple[str, str]:
    """A new organization of `service` and its first key (by default the default scopes)."""
    keyring = catalog.keyring(service)
    try:
        return _once(service, lambda conn: keyring.create_organization(conn, name, scopes))
    except sa.exc.IntegrityError:
        raise NotFound(f"an organization named {name!r} exists already") from None


def create_org(args: argparse.Namespace) -> int:
    name = args.name.strip()
    if not 1 <= len(name) <= NAME_LIMIT or not name.isprintable():
        raise BadInput(f"NAME must be 1 to {NAME_LIMIT} printable characters")
    service = args.provider or AGENCIES
    scopes = _coordinator_scopes() if getattr(args, "coordinator", False) else None
    if scopes is not None and args.provider:
        raise BadInput("--coordinator is an organization of the referral service: no --provider")
    organization_id, api_key = create_organization(service, name, scopes)
    result: dict[str, Any] = {"org_id": organization_id, "api_key": api_key}
    if args.provider:
        result["provider"] = args.provider
    if scopes is not None:
        result["scopes"] = list(scopes)
    if args.json:
        print(json.dumps(result))
    else:
        where = f" ({args.provider})" if args.provider else ""
        where = f" (national coordinator: {' '.join(scopes)})" if scopes else where
        output.show(f"Organization {name}{where}: {organization_id}")
        print(f"API key (shown once, stored hashed): {api_key}")
    return 0


def _coordinator_scopes() -> tuple[str, ...]:
    """The national coordinator's first key: every case across organizations, no person.
    Rejected: marking the organization itself, which no route reads; the key's scopes are
    what every route checks, as `statistics:read` is given."""
    from referral.adapters import organizations

    return organizations.COORDINATOR_SCOPES


def list_orgs(args: argparse.Namespace) -> int:
    service = args.provider or AGENCIES
    keyring = catalog.keyring(service)
    found = _once(service, keyring.organizations)
    shown = [{"id": o.id, "name": o.name, "created_at": o.created_at.isoformat()} for o in found]
    if args.json:
        print(json.dumps(shown))
        return 0
    print(f"{'ID':<36}  {'CREATED':<17} NAME")
    for organization in found:
        output.show(
            f"{organization.id:<36}  {_when(organization.created_at):<17} {organization.name}"
        )
    return 0


def list_keys(args: argparse.Namespace) -> int:
    org_id = _id(args.org_id, "ORG_ID")
    service = args.provider or AGENCIES
    keyring = catalog.keyring(service)

    def work(conn: Connection) -> tuple[list[api_keys.Key], list[dict[str, Any]]]:
        if not keyring.exists(conn, org_id):
            raise NotFound(f"no organization {org_id}{_at(args)}")
        return keyring.keys(conn, org_id), [] if args.provider else _bus_keys(conn, org_id)

    found, on_the_bus = _once(service, work)
    if args.json:
        output.show(json.dumps([*(_shown(key) for key in found), *on_the_bus]))
        return 0
    print(
        f"{'ID':<36}  {'PREFIX':<17} {'SCOPES':<32} {'CREATED':<17} {'LAST USED':<17} "
        f"{'RATE/MIN':<8} REVOKED"
    )
    for key in found:
        shown = _shown(key)
        revoked = "" if key.revoked_at is None else f"{_when(key.revoked_at)} {key.revoked_reason}"
        line = (
            f"{key.id:<36}  {shown['prefix'] + '…':<17} {' '.join(key.scopes):<32} "
            f"{_when(key.created_at):<17} {_when(key.last_used_at) or 'never':<17} "
            f"{key.rate_per_minute or 'default'!s:<8} {revoked}"
        )
        # A revocation's reason is anyone's text who held the command line.
        print(output.safe(line.rstrip(), lines=False))
    for bus_key in on_the_bus:
        revoked = _when(_parsed(bus_key["revoked_at"]))
        created = _when(_parsed(bus_key["created_at"]))
        print(f"{bus_key['id']:<36}  {'(bus key)':<17} {'intake':<32} {created:<17} {'':<17} "
              f"{'':<8} {revoked}".rstrip())  # fmt: skip
    return 0


def _bus_keys(conn: Connection, organization_id: str) -> list[dict[str, Any]]:
    """The organization's bus keys as listed: the key's id and times, never the key."""
    from referral.adapters import bus_keys

    return [
        {
            "id": row.key_id,
            "kind": "bus",
            "created_at": row.created_at.isoformat(),
            "revoked_at": row.revoked_at and row.revoked_at.isoformat(),
        }
        for row in bus_keys.of_organization(conn, organization_id)
    ]


def _parsed(text: str | None) -> dt.datetime | None:
    return None if text is None else dt.datetime.fromisoformat(text)


def create_key(args: argparse.Namespace) -> int:
    org_id = _id(args.org_id, "ORG_ID")
    if args.bus:
        return _create_bus_key(args, org_id)
    service = args.provider or AGENCIES
    keyring = catalog.keyring(service)
    try:
        scopes = keyring.known(args.scope or keyring.default_scopes)
    except api_keys.UnknownScope as error:
        raise BadInput(str(error)) from None

    rate = _rate(args.rate_per_minute)

    def work(conn: Connection) -> tuple[str, str]:
        if not keyring.exists(conn, org_id):
            raise NotFound(f"no organization {org_id}{_at(args)}")
        created = keyring.create_key(conn, org_id, scopes)
        if rate is not None:
            keyring.set_rate(conn, created[0], rate)
        return created

    key_id, api_key = _once(service, work)
    if args.json:
        shown = {"key_id": key_id, "org_id": org_id, "api_key": api_key, "scopes": list(scopes)}
        print(json.dumps({**shown, "rate_per_minute": rate}))
    else:
        limit = f", {rate} requests a minute" if rate is not None else ""
        print(f"Key {key_id} ({' '.join(scopes)}{limit})")
        print(f"API key (shown once, stored hashed): {api_key}")
    return 0


def _create_bus_key(args: argparse.Namespace, org_id: str) -> int:
    """`korpu org keys create ORG --bus`: the key an agency signs its intake entries with."""
    if args.provider or args.scope or args.rate_per_minute:
        raise BadInput(
            "--bus is an agency's key for the intake stream: no --provider, "
            "--scope or --rate-per-minute"
        )
    from referral.adapters import bus_keys, organizations

    def work(conn: Connection) -> str:
        if not organizations.exists(conn, org_id):
            raise NotFound(f"no organization {org_id}{_at(args)}")
        return str(bus_keys.create(conn, org_id))

    from korpu import agency_users
    from korpu_contracts import streams

    bus_key = _once(AGENCIES, work)
    key_id = bus_key.partition(":")[0]
    password = agency_users.grant(_keys_dir(), org_id, key_id)
    redis_note = _set_redis_users().message
    shown = {
        "key_id": key_id,
        "org_id": org_id,
        "bus_key": bus_key,
        "redis_user": agency_users.name(org_id),
        "redis_password": password,
        "streams": {
            "intake": streams.intake(org_id),
            "replies": streams.intake_replies(org_id),
            "status": streams.referral_status(org_id),
        },
    }
    if args.json:
        print(json.dumps(shown))
    else:
        print(f"Bus key {key_id}: the agency signs its intake entries with it")
        print(f"Bus key (shown once, only its public half is kept): {bus_key}")
        print(f"Redis user {shown['redis_user']}, password (shown once, kept hashed): {password}")
        print(f"It adds to {streams.intake(org_id)} and reads {streams.intake_replies(org_id)}")
        print(f"and {streams.referral_status(org_id)}, nothing else.")
    output.show(redis_note, sys.stderr)
    return 0


def _keys_dir() -> Path:
    from korpu_runtime.settings import ServiceSettings

    return ServiceSettings(service="operator").keys_dir


class RedisUsers(NamedTuple):
    """What came of setting the organizations' Redis users, for a script and for a person."""

    state: str  # set, later (no Redis known yet), open, unreachable or refused
    message: str


def _set_redis_users(sign_out: str | None = None) -> RedisUsers:
    """The organizations' Redis users set on the Redis in use (korpu.agency_users), signed
    in as `admin`. The bus keys stand whatever comes of it."""
    import redis

    from korpu import agency_users, embedded_redis, operations, redis_acl

    url = operations.known_redis_url(redis_acl.ADMIN)
    if url is None:
        return RedisUsers("later", "Redis users: set when `korpu up` next starts its Redis.")
    address = embedded_redis.without_password(url)
    try:
        with redis.Redis.from_url(url, decode_responses=True, socket_connect_timeout=5) as client:
            if agency_users.is_open(client):
                return RedisUsers(
                    "open",
                    f"Redis users: none made, Redis at {address} lets anyone in as its "
                    "default user (the bus key's signature still shows who sent what).",
                )
            applied = agency_users.apply(client, _keys_dir(), sign_out=sign_out)
    except (redis.ConnectionError, redis.TimeoutError):
        return RedisUsers(
            "unreachable",
            f"Redis users: not set, Redis at {address} cannot be reached; run "
            "`korpu org redis-users` when it can (`korpu up` sets them as it starts).",
        )
    except redis.ResponseError as error:
        return RedisUsers(
            "refused",
            f"Redis users: not set at {address} ({' '.join(str(error).split())}); "
            "run `korpu org redis-users` with REDIS_URL signed in as its `admin` user.",
        )
    kept = "" if applied.saved else " (Redis keeps no ACL file: set them again after it restarts)"
    return RedisUsers(
        "set", f"Redis users: set for {len(applied.set)} organization(s) at {address}{kept}."
    )


def redis_users(args: argparse.Namespace) -> int:
    """`korpu org redis-users`: the organizations' Redis users set again from the keys folder."""
    outcome = _set_redis_users()
    if args.json:
        # The message names the Redis's address (never its password) and counts: no secret.
        output.document(outcome._asdict())
    else:
        output.show(outcome.message)
    return 0


def revoke_key(args: argparse.Namespace) -> int:
    if args.bus:
        return _revoke_bus_key(args)
    key_id = _id(args.key_id, "KEY_ID")
    reason = (args.reason or "").strip()
    if not 1 <= len(reason) <= REASON_LIMIT:
        raise BadInput(f"give --reason, 1 to {REASON_LIMIT} characters")
    service = args.provider or AGENCIES
    keyring = catalog.keyring(service)

    def work(conn: Connection) -> api_keys.Key:
        revoked = keyring.revoke(conn, key_id, reason)
        if revoked is None:
            raise NotFound(f"no key {key_id}{_at(args)}")
        return revoked

    key = _once(service, work)
    assert key.revoked_at is not None
    if args.json:
        output.document(_shown(key))
        return 0
    output.show(
        f"Key {key.id} ({_shown(key)['prefix']}…) revoked at {_when(key.revoked_at)}: "
        f"{key.revoked_reason}"
    )
    return 0


def _revoke_bus_key(args: argparse.Namespace) -> int:
    from korpu_contracts import entry_signature
    from referral.adapters import bus_keys

    if args.provider or not entry_signature.KEY_ID.fullmatch(args.key_id):
        raise BadInput("KEY_ID must be a bus key's id as `korpu org keys create --bus` printed")

    def work(conn: Connection) -> str:
        organization_id = bus_keys.revoke(conn, args.key_id)
        if organization_id is None:
            raise NotFound(f"no bus key {args.key_id}")
        return organization_id

    from korpu import agency_users

    organization_id = _once(AGENCIES, work)
    if args.json:
        output.document({"id": args.key_id, "kind": "bus", "org_id": organization_id})
    else:
        print(f"Bus key {args.key_id} of {organization_id} revoked: its entries are refused.")
    if agency_users.withdraw(_keys_dir(), args.key_id) is not None:
        output.show(_set_redis_users(sign_out=organization_id).message, sys.stderr)
    return 0


def limit_key(args: argparse.Namespace) -> int:
    """`korpu org keys limit KEY_ID --rate-per-minute N | --default`."""
    key_id = _id(args.key_id, "KEY_ID")
    rate = None if args.default else _rate(args.rate_per_minute)
    keyring = catalog.keyring(args.provider or AGENCIES)

    def work(conn: Connection) -> api_keys.Key:
        changed = keyring.set_rate(conn, key_id, rate)
        if changed is None:
            raise NotFound(f"no key {key_id}{_at(args)}")
        return changed

    key = _once(args.provider or AGENCIES, work)
    if args.json:
        output.document(_shown(key))
        return 0
    shown = "the default" if key.rate_per_minute is None else f"{key.rate_per_minute} a minute"
    print(f"Key {key.id} ({_shown(key)['prefix']}…): rate limit {shown}")
    return 0


def _rate(text: str | None) -> int | None:
    if text is None:
        return None
    if not text.isdigit() or not 1 <= int(text) <= RATE_LIMIT:
        raise BadInput(f"--rate-per-minute must be a whole number from 1 to {RATE_LIMIT}")
    return int(text)


def _once(service: str, work: Callable[[Connection], T]) -> T:
    return catalog.once(service, work)


def _at(args: argparse.Namespace) -> str:
    return (
        f" at {args.provider}"
        if args.provider
        else " among the agencies (a provider's: --provider)"
    )


def _id(text: str, name: str) -> str:
    try:
        return str(uuid.UUID(text))
    except ValueError:
        raise BadInput(f"{name} must be an id as `korpu org create` or `keys list` print") from None


def _shown(key: api_keys.Key) -> dict[str, Any]:
    return {
        "id": key.id,
        "kind": "api",
        "prefix": api_keys.KEY_PREFIX + key.prefix,
        "scopes": list(key.scopes),
        "created_at": key.created_at.isoformat(),
        "last_used_at": key.last_used_at and key.last_used_at.isoformat(),
        "revoked_at": key.revoked_at and key.revoked_at.isoformat(),
        "revoked_reason": key.revoked_reason,
        "rate_per_minute": key.rate_per_minute,
    }


def _when(at: dt.datetime | None) -> str:
    return "" if at is None else at.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%MZ")
