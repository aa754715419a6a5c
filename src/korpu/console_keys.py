"""The operators' console's own API key at each provider: `directory:read` alone.

The console reads each provider's capacity by region (`GET /v1/capacity`, counts
only) as any client does, with a key of an organization of that provider, made in
the provider's own database: "Körpü console". Its one live key may read the
directory and the counts, never a task nor act on one, so a console that leaks
its keys leaks no person. Rejected: a scope of its own (`capacity:read`), which
would narrow the key further but change every provider's scopes and the case
workers' docs for one reader; and the scrape token, which is the metrics', not a
principal any provider's audit trail can name.

The keys are kept in the keys folder (`console-provider-keys.json`, 0600, replaced
whole) with each key's id, so `ensure` can tell a key still live from one revoked,
lost with its database, or never made, and replace only those. A key is never
printed nor logged: `korpu console keys` says which providers have one.
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import json
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Connection

from korpu import catalog, output, redis_acl
from korpu_runtime import api_keys, private, provider_access

FILE = "console-provider-keys.json"
ORGANIZATION = "Körpü console"
SCOPES = (provider_access.DIRECTORY_READ,)
REVOKED_REASON = "replaced by a new console key (korpu.console_keys)"

# What `ensure` did for a provider: its key kept, made (no console organization
# yet), or replaced (revoked, gone with its database, or lost from the file).
KEPT, MADE, REPLACED = "kept", "made", "replaced"


@dataclasses.dataclass(frozen=True)
class Held:
    """The console's key at one provider, and what `ensure` did about it."""

    key_id: str
    api_key: str = dataclasses.field(repr=False)  # a secret: never in a repr, a log
    state: str = KEPT


class BrokenFile(ValueError):
    """The keys file is not one this module wrote (its text is never shown)."""


def load(keys_dir: Path) -> dict[str, str]:
    """The console's key by provider, as last stored; {} when none was ever made."""
    return {name: held.api_key for name, held in _stored(keys_dir).items()}


def ensure(keys_dir: Path) -> dict[str, str]:
    """A live console key at every provider, made where one lacks; the key by provider."""
    return {name: held.api_key for name, held in reconcile(keys_dir).items()}


def reconcile(keys_dir: Path, providers: Iterable[str] = catalog.PROVIDERS) -> dict[str, Held]:
    """`ensure`, saying what it did for each provider (kept, made, replaced).

    The file is written once, whole, when anything changed, and before an error of a
    later provider is raised, so a key made is never lost.
    """
    stored = _stored(keys_dir)
    held: dict[str, Held] = {}
    try:
        for name in providers:
            held[name] = catalog.once(name, functools.partial(_ensure_one, name, stored.get(name)))
    finally:
        if any(h.state != KEPT for h in held.values()):
            _save(keys_dir, {**stored, **held})
    return held


def _ensure_one(service: str, known: Held | None, conn: Connection) -> Held:
    keyring = catalog.keyring(service)
    organization = next((o for o in keyring.organizations(conn) if o.name == ORGANIZATION), None)
    if organization is None:
        organization_id, api_key = keyring.create_organization(conn, ORGANIZATION, SCOPES)
        (first,) = keyring.keys(conn, organization_id)
        return Held(first.id, api_key, MADE)
    live = [k for k in keyring.keys(conn, organization.id) if k.revoked_at is None]
    if known is not None and any(_usable(k) and k.id == known.key_id for k in live):
        return dataclasses.replace(known, state=KEPT)
    # Any other live key of the console's organization is one whose secret nobody
    # holds any more: revoked, so the organization keeps one key in use.
    for key in live:
        keyring.revoke(conn, key.id, REVOKED_REASON)
    key_id, api_key = keyring.create_key(conn, organization.id, SCOPES)
    return Held(key_id, api_key, REPLACED)


def _usable(key: api_keys.Key) -> bool:
    return key.revoked_at is None and key.scopes == SCOPES


def _stored(keys_dir: Path) -> dict[str, Held]:
    path = keys_dir / FILE
    if not path.exists():
        return {}
    try:
        found: Any = json.loads(path.read_text(encoding="utf-8"))
        return {
            str(name): Held(str(entry["key_id"]), str(entry["api_key"]))
            for name, entry in found.items()
        }
    except (ValueError, TypeError, KeyError, AttributeError):
        raise BrokenFile(f"{path} is not a console keys file; remove it to make new keys") from None


def _save(keys_dir: Path, held: Mapping[str, Held]) -> None:
    private.folder(keys_dir)
    shown = {name: {"key_id": h.key_id, "api_key": h.api_key} for name, h in sorted(held.items())}
    redis_acl.write_private(keys_dir / FILE, json.dumps(shown, indent=2) + "\n")


def add_parser(console: Any) -> None:
    """`korpu console keys`, under the `korpu console` commands."""
    keys = console.add_parser(
        "keys",
        help="make the console's key (directory:read) at each provider lacking a live one, "
        "and say which providers have one (never the keys)",
    )
    output.add_json(keys)
    keys.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from korpu_runtime.settings import ServiceSettings

    keys_dir = ServiceSettings(service="operator").keys_dir
    try:
        held = reconcile(keys_dir)
    except BrokenFile as error:
        output.show(f"korpu console keys: {error}", sys.stderr)
        return 1
    # The key's id, never the key: an operator revokes by id (`korpu org keys revoke`).
    shown = {name: {"key_id": h.key_id, "state": h.state} for name, h in held.items()}
    if args.json:
        output.document({"keys_file": str(keys_dir / FILE), "providers": shown})
        return 0
    for name, h in held.items():
        print(f"{name:<20} {h.state:<8} key {h.key_id} ({' '.join(SCOPES)})")
    print(f"Kept in {keys_dir / FILE} (0600).")
    return 0
