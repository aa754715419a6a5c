"""The referral service's intake keys: agencies seal referrals to them (korpu_contracts.sealed).

X25519 key pairs under `<keys_dir>/intake/`: `private/<key id>.pem` (0600, the
folder 0700) and `public/<key id>.pub` (the base64 public key, for
`korpu keys intake show` and `GET /v1/intake-key`). Key ids sort by creation
time, as signing keys' do (korpu_runtime.signing): agencies are given the
newest; every key still in the folder opens, so `korpu keys intake generate`
rotates while agencies still seal to the old key, and `korpu keys intake retire`
ends the old key once they have moved. An unknown key id reads the folder again:
no restart.

Made at the first start outside production, as signing keys are; in production
the operator makes the first with `korpu keys intake generate` before the start.

How a handler finds the keys: bootstrap sets them on the database's engine
(`attach`), as it does the data keys (adapters/sealing.py).
"""

from __future__ import annotations

import base64
import dataclasses
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from sqlalchemy.engine import Connection, Engine

from korpu_contracts import sealed
from korpu_runtime import signing

OPTION = "referral_intake_keys"


class NoIntakeKey(RuntimeError):
    """No intake key to give agencies (in production, made by hand before the start)."""


def folder(keys_dir: Path) -> Path:
    return keys_dir / "intake"


def _private(keys_dir: Path) -> Path:
    return folder(keys_dir) / "private"


def _public(keys_dir: Path) -> Path:
    return folder(keys_dir) / "public"


def generate(keys_dir: Path) -> str:
    """A new intake key pair, the one agencies are given from now on; returns its key id."""
    key_id = signing.new_key_id()
    key = X25519PrivateKey.generate()
    private_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    public_raw = key.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    # The private half first: a key is shown to agencies only once it can open.
    signing.write_key_file(_private(keys_dir) / f"{key_id}.pem", private_pem)
    signing.write_key_file(_public(keys_dir) / f"{key_id}.pub", base64.b64encode(public_raw))
    return key_id


def public_keys(keys_dir: Path) -> list[sealed.IntakeKey]:
    """Every intake public key, oldest first."""
    found = []
    for key_id, path in sorted(signing.key_files(_public(keys_dir), ".pub")):
        found.append(sealed.IntakeKey.parse(f"{key_id}:{path.read_text().strip()}"))
    return found


def current(keys_dir: Path, *, create: bool) -> sealed.IntakeKey:
    """The key agencies seal to: the newest, made first when there is none and `create`."""
    keys = public_keys(keys_dir)
    if not keys and create:
        generate(keys_dir)
        keys = public_keys(keys_dir)
    if not keys:
        raise NoIntakeKey(
            f"the referral service has no intake key in {folder(keys_dir)}: "
            "run `korpu keys intake generate`"
        )
    return keys[-1]


def retire(keys_dir: Path, key_id: str) -> None:
    """Remove an old key: referrals sealed to it are refused from now on."""
    ids = [key.key_id for key in public_keys(keys_dir)]
    if key_id not in ids:
        raise LookupError(f"no intake key {key_id}")
    if key_id == ids[-1]:
        raise ValueError(f"{key_id} is the newest intake key: make a newer one first")
    (_public(keys_dir) / f"{key_id}.pub").unlink()
    (_private(keys_dir) / f"{key_id}.pem").unlink(missing_ok=True)


@dataclasses.dataclass
class Opener:
    """Opens sealed referrals with every intake private key in the folder."""

    keys_dir: Path
    _keys: dict[str, X25519PrivateKey] = dataclasses.field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self._read()

    def _read(self) -> None:
        keys: dict[str, X25519PrivateKey] = {}
        for key_id, path in signing.key_files(_private(self.keys_dir), ".pem"):
            key = serialization.load_pem_private_key(path.read_bytes(), password=None)
            if isinstance(key, X25519PrivateKey):
                keys[key_id] = key
        self._keys = keys

    def open(
        self, referral: sealed.SealedReferral, organization_id: str, idempotency_key: str
    ) -> bytes:
        """The referral body's JSON; `sealed.Unopened` naming why not.

        Whether the key is (still) in the folder is one look at its file (the key
        id has the key id pattern, so it names no other path): a key made since the
        start opens at once, one retired since is refused at once. No restart.
        """
        held = (_private(self.keys_dir) / f"{referral.key_id}.pem").exists()
        if held != (referral.key_id in self._keys):
            self._read()
        return sealed.open_referral(referral, self._keys, organization_id, idempotency_key)


def attach(engine: Engine, opener: Opener) -> None:
    engine.update_execution_options(**{OPTION: opener})


def of(conn: Connection) -> Opener:
    opener = conn.get_execution_options().get(OPTION)
    if not isinstance(opener, Opener):
        raise NoIntakeKey("this database connection has no intake keys: see referral.bootstrap")
    return opener
