"""Organizations and their API keys, stored hashed."""

from __future__ import annotations

import hashlib
import secrets
import uuid

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from referral.adapters import tables
from referral.adapters.repository import now

KEY_PREFIX = "korpu_"


def hash_key(api_key: str) -> str:
    # Keys are 256-bit random strings, so a fast hash is enough: there is nothing
    # to brute-force, unlike a password (a slow KDF would only cost every request).
    return hashlib.sha256(api_key.encode()).hexdigest()


def create(conn: Connection, name: str) -> tuple[str, str]:
    """A new organization and its first key; the key is returned once and kept only hashed."""
    organization_id = str(uuid.uuid4())
    api_key = KEY_PREFIX + secrets.token_urlsafe(32)
    conn.execute(
        tables.organizations.insert().values(id=organization_id, name=name, created_at=now())
    )
    conn.execute(
        tables.api_keys.insert().values(
            key_hash=hash_key(api_key), organization_id=organization_id, created_at=now()
        )
    )
    return organization_id, api_key


def authenticate(conn: Connection, api_key: str) -> str | None:
    row = conn.execute(
        sa.select(tables.api_keys.c.organization_id).where(
            tables.api_keys.c.key_hash == hash_key(api_key)
        )
    ).first()
    return None if row is None else str(row.organization_id)


def exists(conn: Connection, organization_id: str) -> bool:
    query = sa.select(tables.organizations.c.id).where(tables.organizations.c.id == organization_id)
    return conn.execute(query).first() is not None
