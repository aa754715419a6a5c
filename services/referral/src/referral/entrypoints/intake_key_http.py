"""`GET /v1/intake-key`: the public key agency systems on the bus seal referrals to.

Open, like `korpu keys intake show` prints it: a public key is no secret, and an
agency's system can fetch the newest after a rotation without an operator.
It is only as trustworthy as the connection it comes over: an agency that cannot
check the server (no TLS in front) takes the key from the operator instead.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from korpu_contracts import sealed
from referral.adapters import intake_keys
from referral.entrypoints import http as referral_http

api = APIRouter(prefix="/v1", tags=["intake"])


@api.get("/intake-key")
async def read_intake_key(service: referral_http.ServiceDep) -> dict[str, Any]:
    """The key to seal with (`korpu_contracts.sealed`): `key` is `<key id>:<base64 X25519>`."""
    key = intake_keys.current(service.settings.keys_dir, create=False)
    return {"key": str(key), "key_id": key.key_id, "suite": sealed.SUITE_NAME}
