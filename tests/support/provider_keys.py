"""A provider's case workers' API key, made in that provider's own database, for tests."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from sqlalchemy.engine import Connection

from korpu_runtime.service import Service

if TYPE_CHECKING:
    from korpu_runtime import api_keys


async def new_key(
    service: Service,
    keyring: api_keys.Keyring,
    name: str = "Case workers",
    scopes: Iterable[str] | None = None,
) -> str:
    """A new organization at the provider and a key of it (every scope unless `scopes`)."""

    def create(conn: Connection) -> str:
        organization_id, api_key = keyring.create_organization(conn, name)
        if scopes is None:
            return api_key
        return keyring.create_key(conn, organization_id, scopes)[1]

    return await service.db.run(create)


def bearer(api_key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {api_key}"}
