"""Agencies on the bus act only as themselves: each signs its intake entries with its
organization's bus key (korpu_contracts.entry_signature).

An organization's bus key is an Ed25519 key pair made by `korpu org keys create ORG
--bus`: the referral service keeps the public half (`tables.bus_keys`), the
operator hands the private half to the agency once, and it is kept nowhere here.
The key id names the organization, so the organization an intake entry acts for
is the one whose key signed it, never the one its data names. Same signed bytes
and field as the services' own entries (korpu_runtime.signing), with the signer
`agency`. Rejected: an HMAC secret per organization, which the referral service
would have to keep readable, so that a copy of its database could sign as any
agency. Beside it, not instead: each organization's own intake stream and Redis
user (korpu.agency_users), which keep agencies out of each other's streams, but
only where Redis has its users; the signature holds on any Redis.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy.engine import Connection

from korpu_contracts import entry_signature
from korpu_runtime import signing
from referral.adapters import tables
from referral.adapters.repository import now


def create(conn: Connection, organization_id: str) -> entry_signature.AgencyKey:
    """A new bus key for the organization; its private half is returned once, never kept."""
    key = entry_signature.AgencyKey.generate(signing.new_key_id())
    conn.execute(
        tables.bus_keys.insert().values(
            key_id=key.key_id,
            organization_id=organization_id,
            public_key=base64.b64encode(key.public_raw()).decode(),
            created_at=now(),
        )
    )
    return key


def revoke(conn: Connection, key_id: str) -> str | None:
    """Refuse the key's entries from now on; the organization it was of, None if unknown."""
    table = tables.bus_keys
    found = conn.execute(
        sa.select(table.c.organization_id).where(table.c.key_id == key_id)
    ).scalar()
    if found is not None:
        conn.execute(
            table.update()
            .where(table.c.key_id == key_id, table.c.revoked_at.is_(None))
            .values(revoked_at=now())
        )
    return None if found is None else str(found)


def organization_of(conn: Connection, stream: str, fields: Mapping[bytes, bytes]) -> str:
    """The organization whose bus key signed this entry of `stream`; `signing.Refused` if none."""
    text = {name.decode(errors="replace"): value for name, value in fields.items()}
    signer, key_id, signature = signing.parsed(text)
    if signer != entry_signature.AGENCY:
        raise signing.Refused("the entry is not signed with an organization's bus key")
    table = tables.bus_keys
    row = conn.execute(
        sa.select(table.c.organization_id, table.c.public_key).where(
            table.c.key_id == key_id, table.c.revoked_at.is_(None)
        )
    ).first()
    if row is None:
        raise signing.Refused(f"no bus key {key_id} is known (or it was revoked)")
    public_key = Ed25519PublicKey.from_public_bytes(base64.b64decode(row.public_key))
    try:
        public_key.verify(signature, entry_signature.signed_bytes(stream, signer, key_id, text))
    except InvalidSignature:
        raise signing.Refused(
            f"the signature does not match the entry (bus key {key_id})"
        ) from None
    return str(row.organization_id)


def organizations_on_the_bus(conn: Connection) -> list[str]:
    """Every organization that was ever given a bus key: each has its intake read.

    Revoked keys count: entries left on the stream are still answered (refused)."""
    table = tables.bus_keys
    found = conn.execute(sa.select(table.c.organization_id).distinct()).scalars()
    return sorted(str(organization_id) for organization_id in found)


def of_organization(conn: Connection, organization_id: str) -> list[sa.Row[tuple[str, Any, Any]]]:
    """The organization's bus keys, oldest first: id, created_at, revoked_at (never the key)."""
    table = tables.bus_keys
    query = (
        sa.select(table.c.key_id, table.c.created_at, table.c.revoked_at)
        .where(table.c.organization_id == organization_id)
        .order_by(table.c.created_at)
    )
    return list(conn.execute(query))
