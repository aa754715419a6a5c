"""Case workers and coordinators act through the console with an API key of their own.

A case worker's account is tied to one organization of one provider, a coordinator's
to the coordinator's organization at the referral service. When the account is made
(`korpu users create`, on the machine that reaches the service's database), a key of
that organization is made for this person alone, and kept in the console's database
sealed (AES-256-GCM) with a key in the keys folder: a copy of the console's database
signs nobody in anywhere. The console calls the service's own API with it, so every
read and action is in that service's audit trail under the person's own key id, and
the service enforces its own rules and scopes. Disabling the account revokes the key.

Rejected: one console key per service asserting who acts (the service would have to
trust the console's word for every person), and reading the services' databases
directly (the console would hold what only the service may read).
"""

from __future__ import annotations

import dataclasses
import os
import secrets
from pathlib import Path

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from korpu_runtime import private

SEAL_FILE = "console-account-keys.key"
# The scopes of the key each tied role gets (korpu_runtime.provider_access for a case
# worker's; the referral service's coordinator scope for a coordinator's).
SCOPES: dict[str, tuple[str, ...]] = {
    "case_worker": ("directory:read", "tasks:read", "tasks:act"),
    "coordinator": ("cases:coordinate",),
}
NONCE_BYTES = 12


@dataclasses.dataclass(frozen=True)
class Tie:
    """What an account acts for: a service, an organization there, its key there."""

    service: str
    organization_id: str
    key_id: str
    # Where set, the entries (facilities, programs, ...) the person works with.
    entries: tuple[str, ...] = ()


class Sealer:
    """Seals and opens the accounts' API keys with the console's own key (0600)."""

    def __init__(self, keys_dir: Path) -> None:
        self.path = keys_dir / SEAL_FILE

    def _key(self, create: bool) -> bytes:
        if not self.path.exists():
            if not create:
                raise FileNotFoundError(f"{self.path}: the accounts' keys are sealed with it")
            private.folder(self.path.parent)
            key = AESGCM.generate_key(bit_length=256)
            try:
                descriptor = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:
                return self.path.read_bytes()  # another process made it first: theirs
            with os.fdopen(descriptor, "wb") as file:
                file.write(key)
        return self.path.read_bytes()

    def seal(self, api_key: str, account: str) -> bytes:
        nonce = secrets.token_bytes(NONCE_BYTES)
        # Bound to its account: a sealed key moved to another row does not open.
        return nonce + AESGCM(self._key(create=True)).encrypt(
            nonce, api_key.encode(), account.encode()
        )

    def open(self, sealed: bytes, account: str) -> str:
        nonce, body = sealed[:NONCE_BYTES], sealed[NONCE_BYTES:]
        return AESGCM(self._key(create=False)).decrypt(nonce, body, account.encode()).decode()
