"""Every stream entry signed by the service that wrote it; every reader checks who did.

A Redis user per service keeps one service from writing another's streams, but
only where the operator loaded the ACL file; a signature holds on any Redis. A
service signs with its own Ed25519 private key; every reader holds the public
keys of all. Each stream names who may write it (`streams.PRODUCERS`), and the
runtime gives a handler an entry only once its signature checks out and its
envelope's `source` names the service that signed it. A refused entry is never
handled and never retried: it goes to the dead letters with the reason.

What is signed: the stream's name (an entry moved to another stream fails),
the signer and key id, and every field of the entry but the signature itself
and `replay_of`, which `korpu dlq replay` adds to an entry it sends again with
its original signature.

Keys live under `<keys_dir>/signing/`: `private/<service>/<key id>.pem` (0600,
only that service's own) and `public/<service>/<key id>.pub` (every reader's).
Key ids sort by creation time: a service signs with its newest key and looks
for a newer one every few seconds; a reader meeting an unknown key id reads the
public folder again. So `korpu keys signing generate` rotates without stopping
anything, and an old key verifies until an operator retires it.

Rejected: HMAC with a key per service. Every reader would hold every writer's
secret, so a provider could sign task requests as the referral service.
"""

from __future__ import annotations

import base64
import contextlib
import dataclasses
import os
import secrets
import time
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from korpu_contracts import entry_signature, streams

# What is signed and how the field reads: in the contracts, which agencies use too.
VERSION = entry_signature.VERSION
signed_bytes = entry_signature.signed_bytes
_NAME = entry_signature.NAME
_KEY_ID = entry_signature.KEY_ID
# How often a signing service looks for a newer key of its own.
RESCAN_SECONDS = 5.0


class Refused(Exception):
    """An entry not written by whom it must be. The text is ours, never the entry's."""


class NoSigningKey(RuntimeError):
    """A service with no key of its own to sign with (in production, keys are made by hand)."""


def _text(value: bytes | str) -> bytes:
    return value if isinstance(value, bytes) else value.encode()


def parsed(fields: Mapping[str, bytes | str]) -> tuple[str, str, bytes]:
    """(signer, key id, signature) of an entry; Refused when it has none or a malformed one."""
    try:
        return entry_signature.parse(fields)
    except entry_signature.Malformed as malformed:
        raise Refused(str(malformed)) from None


def new_key_id(at: datetime | None = None) -> str:
    # To the microsecond, so the newest key sorts last even when made in the same second.
    return f"{(at or datetime.now(UTC)):%Y%m%dT%H%M%S%fZ}-{secrets.token_hex(3)}"


def private_dir(keys_dir: Path, service: str) -> Path:
    return keys_dir / "signing" / "private" / service


def public_dir(keys_dir: Path) -> Path:
    return keys_dir / "signing" / "public"


def generate(keys_dir: Path, service: str) -> str:
    """A new key pair for `service`, its newest from now on; returns the key id."""
    if not _NAME.fullmatch(service):
        raise ValueError(f"not a service name: {service!r}")
    key_id = new_key_id()
    key = Ed25519PrivateKey.generate()
    private_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    public_raw = key.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    # The public half first: a reader must know a key before any entry signed with it.
    public_path = public_dir(keys_dir) / service / f"{key_id}.pub"
    write_key_file(public_path, base64.b64encode(public_raw) + b"\n")
    write_key_file(private_dir(keys_dir, service) / f"{key_id}.pem", private_pem)
    return key_id


def write_key_file(path: Path, content: bytes) -> None:
    """Written whole under a temporary name and renamed: a reader never sees half a key."""
    for folder in reversed(path.parents[:4]):
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as file:
        file.write(content)
    os.replace(temporary, path)


def key_files(folder: Path, suffix: str) -> Iterator[tuple[str, Path]]:
    with contextlib.suppress(FileNotFoundError):
        for path in folder.iterdir():
            if path.suffix == suffix and _KEY_ID.fullmatch(path.stem):
                yield path.stem, path


@dataclasses.dataclass(frozen=True)
class KeyInfo:
    service: str
    key_id: str
    has_private: bool


def list_keys(keys_dir: Path) -> list[KeyInfo]:
    """Every public key, oldest first per service, and whether its private half is here."""
    found = []
    with contextlib.suppress(FileNotFoundError):
        for folder in sorted(public_dir(keys_dir).iterdir()):
            for key_id, _ in sorted(key_files(folder, ".pub")):
                private = private_dir(keys_dir, folder.name) / f"{key_id}.pem"
                found.append(KeyInfo(folder.name, key_id, private.exists()))
    return found


def retire(keys_dir: Path, service: str, key_id: str) -> None:
    """Remove an old key: entries signed with it are refused from now on."""
    if not (_NAME.fullmatch(service) and _KEY_ID.fullmatch(key_id)):
        raise LookupError("no such key")
    ids = sorted(key for key, _ in key_files(public_dir(keys_dir) / service, ".pub"))
    if key_id not in ids:
        raise LookupError(f"{service} has no key {key_id}")
    if key_id == ids[-1]:
        raise ValueError(f"{key_id} is {service}'s newest key: make a newer one first")
    (private_dir(keys_dir, service) / f"{key_id}.pem").unlink(missing_ok=True)
    (public_dir(keys_dir) / service / f"{key_id}.pub").unlink()


class Signer:
    """Signs this service's entries with its newest private key."""

    def __init__(self, keys_dir: Path, service: str, *, create: bool) -> None:
        self.service = service
        self._folder = private_dir(keys_dir, service)
        self._keys_dir = keys_dir
        self._key_id = ""
        self._key: Ed25519PrivateKey | None = None
        self._checked = 0.0
        self._load()
        if self._key is None and create:
            generate(keys_dir, service)
            self._load()
        if self._key is None:
            raise NoSigningKey(
                f"{service} has no signing key in {self._folder}: "
                f"run `korpu keys signing generate {service}`"
            )

    def _load(self) -> None:
        newest = max(key_files(self._folder, ".pem"), default=None)
        self._checked = time.monotonic()
        if newest is None or newest[0] == self._key_id:
            return
        key = serialization.load_pem_private_key(newest[1].read_bytes(), password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise NoSigningKey(f"{newest[1].name} is not an Ed25519 key")
        self._key_id, self._key = newest[0], key

    @property
    def key_id(self) -> str:
        return self._key_id

    def sign(self, stream: str, fields: Mapping[str, bytes | str]) -> str:
        """The signature field's value for an entry of `stream` holding `fields`."""
        if time.monotonic() - self._checked > RESCAN_SECONDS:
            self._load()
        assert self._key is not None
        signature = self._key.sign(signed_bytes(stream, self.service, self._key_id, fields))
        return entry_signature.field_value(self.service, self._key_id, signature)

    def signed(self, stream: str, fields: dict[str, bytes | str]) -> dict[str, bytes | str]:
        """`fields` with their signature added, ready for XADD."""
        return {**fields, streams.SIGNATURE_FIELD: self.sign(stream, fields)}


UNSETTLED_NS = 2_000_000_000


class Verifier:
    """Tells who signed an entry, or refuses it; knows every service's public keys."""

    def __init__(self, keys_dir: Path) -> None:
        self._folder = public_dir(keys_dir)
        self._keys: dict[tuple[str, str], Ed25519PublicKey] = {}
        self._reload()

    def _stamp(self) -> int:
        """When the folder of public keys last changed (a key added, one retired)."""
        try:
            return max(
                [self._folder.stat().st_mtime_ns]
                + [folder.stat().st_mtime_ns for folder in self._folder.iterdir()]
            )
        except FileNotFoundError:
            return 0

    def _reload(self) -> None:
        keys: dict[tuple[str, str], Ed25519PublicKey] = {}
        stamp = self._stamp()
        # A file system's clock is coarse: a key added in the same tick as the last
        # change would leave the stamp as it was. A fresh stamp is taken as unsettled.
        settled = time.time_ns() - stamp > UNSETTLED_NS
        self._loaded_at = stamp if settled else -1
        with contextlib.suppress(FileNotFoundError):
            for folder in self._folder.iterdir():
                if not _NAME.fullmatch(folder.name):
                    continue
                for key_id, path in key_files(folder, ".pub"):
                    with contextlib.suppress(ValueError):
                        raw = base64.b64decode(path.read_bytes().strip(), validate=True)
                        keys[folder.name, key_id] = Ed25519PublicKey.from_public_bytes(raw)
        self._keys = keys

    def signer(
        self, stream: str, fields: Mapping[bytes, bytes], allowed: tuple[str, ...] | None
    ) -> str:
        """The service that signed this entry of `stream`, if it is one of `allowed`.

        Refused otherwise. Returns "" when `allowed` is empty: a stream no service
        writes (the intake: agencies' entries). None: nobody may write it.
        """
        if allowed is None:
            raise Refused("nobody is known to write this stream")
        if not allowed:
            return ""
        text = {name.decode(errors="replace"): value for name, value in fields.items()}
        signer = self.check(stream, text)
        if signer not in allowed:
            raise Refused(f"signed by {signer}, which does not write this stream")
        return signer

    def check(self, stream: str, fields: Mapping[str, bytes | str]) -> str:
        """The service whose valid signature `fields` carry for `stream`; Refused otherwise."""
        signer, key_id, signature = parsed(fields)
        key = self._keys.get((signer, key_id))
        if key is None and self._stamp() != self._loaded_at:
            # A key made since: rotation needs no restart. Read again only when the
            # folder changed: forged key ids cost a few stats, never a re-read.
            self._reload()
            key = self._keys.get((signer, key_id))
        if key is None:
            raise Refused(f"no key {key_id} of {signer} is known")
        try:
            key.verify(signature, signed_bytes(stream, signer, key_id, fields))
        except InvalidSignature:
            raise Refused(
                f"the signature does not match the entry (key {key_id} of {signer})"
            ) from None
        return signer

    def dead_letter_writer(self, stream: str, fields: Mapping[str, bytes | str]) -> str:
        """The service that wrote a dead letter of `stream`: its own, and the reader of
        the stream the letter came from."""
        writer = self.check(stream, fields)
        if stream != streams.dead_letters(writer):
            raise Refused(f"{writer} wrote into another service's dead letters")
        origin = _text(fields.get("origin_stream", b"")).decode(errors="replace")
        if streams.reader_of(origin) != writer:
            raise Refused(f"{writer} does not read the stream this dead letter names")
        return writer
