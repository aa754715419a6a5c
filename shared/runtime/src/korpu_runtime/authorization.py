"""The FastAPI side of API keys: `authorized(keyring, scope)`, the dependency every keyed
route takes, answering who calls or a problem document.

401 (with `WWW-Authenticate: Bearer`) for no key, an unknown or a revoked one; 403
naming the missing scope, never the key. `refused` is the service's own note of a
known key turned away for its scope (its audit trail), written before the 403.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Header, Request
from sqlalchemy.engine import Connection

from korpu_runtime import problems as kinds
from korpu_runtime.api_keys import Keyring, Principal
from korpu_runtime.problems import Problem
from korpu_runtime.service import Service

# (connection, who, the scope lacked, the request): the service records the refusal.
Refused = Callable[[Connection, Principal, str, Request], None]


def authorized(
    keyring: Keyring, scope: str, refused: Refused | None = None
) -> Callable[..., Awaitable[Principal]]:
    """A dependency answering the principal when its key holds `scope`."""
    if scope not in keyring.scopes:
        raise ValueError(f"{scope!r} is not a scope of this keyring: {keyring.scopes}")

    # async: FastAPI runs a plain function dependency on a thread of its pool.
    async def principal(
        request: Request, authorization: Annotated[str | None, Header()] = None
    ) -> Principal:
        service: Service = request.app.state.service
        scheme, _, key = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not key.strip():
            raise Problem(kinds.UNAUTHORIZED, detail="Send `Authorization: Bearer <API key>`.")
        found = await service.db.run(lambda conn: keyring.authenticate(conn, key.strip()))
        if found is None:
            raise Problem(kinds.UNAUTHORIZED, detail="Unknown or revoked API key.")
        if scope not in found.scopes:
            if refused is not None:
                await service.db.run(lambda conn: refused(conn, found, scope, request))
            # Names the scope, never the key: the key is a secret, the scope is not.
            raise Problem(
                kinds.MISSING_SCOPE,
                detail=f"This API key lacks the scope `{scope}`.",
                missing_scope=scope,
            )
        return found

    return principal
