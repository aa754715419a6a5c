"""Personal data sealed at rest: AES-256-GCM per field, key ids, a keyed blind index.

A sealed value reads `<key id>:<base64(nonce | ciphertext and tag)>`. The key id
says which key opens it, so several keys can be readable at once while rows move
to the newest one (`korpu keys rotate`). Every value is sealed with associated
data naming its table, row and column (`persons/<referral id>/given_name`): GCM
refuses a value copied to another row or column, not only an altered one.
Rejected: encrypting the whole database file (SQLCipher; nothing for
PostgreSQL) and one ciphertext per person (every read of one field opens all).

The blind index is an HMAC-SHA256 of a person's normalised name and birth date
under its own key (`REFERRAL_BLIND_INDEX_KEY`), never one of the data keys: a
database reader sees only that two rows match, and matching needs no
decryption of every record.

How the repository finds the keyring: bootstrap sets it on the database's
engine as an execution option (`attach`), and `of(conn)` reads it back from any
connection of that engine, so every `ReferralRepository(conn)`, in a handler, a
view, the CLI or a test, seals with its service's keys and two services in one
process keep their own. Rejected: a module-level keyring (two services side by
side would share it), and passing it down every call (the runtime builds the
unit of work and knows nothing of referral keys).
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import datetime as dt
import hashlib
import hmac
import os
import re
import secrets
from collections.abc import Callable, Sequence
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy.engine import Connection, Engine

from korpu_runtime import settings

KEY_BYTES = 32
NONCE_BYTES = 12
TAG_BYTES = 16
OPTION = "referral_keyring"
KEY_ID = re.compile(r"[A-Za-z0-9_-]{1,32}")


class KeyConfigError(settings.SettingsRefused):
    """The keys in settings are missing, a placeholder or malformed. Never quotes a key."""


class CannotOpen(ValueError):
    """A sealed value that does not open: unknown key, altered, or moved to another place."""


@dataclasses.dataclass(frozen=True)
class DataKey:
    id: str
    key: bytes = dataclasses.field(repr=False)

    @classmethod
    def generate(cls) -> DataKey:
        # The date tells an operator which key is which; the suffix keeps two
        # keys made on one day apart.
        return cls(f"k{dt.date.today():%Y%m%d}{secrets.token_hex(2)}", AESGCM.generate_key(256))

    def line(self) -> str:
        """`id:base64key`, as REFERRAL_DATA_KEYS and the demo key file list it."""
        return f"{self.id}:{base64.b64encode(self.key).decode()}"


@dataclasses.dataclass(frozen=True)
class _Keys:
    current: str
    ciphers: dict[str, AESGCM]


class Keyring:
    """Seals and opens values with the data keys (the first one seals), and blind-indexes."""

    def __init__(
        self,
        keys: Sequence[DataKey],
        index_key: bytes,
        key_file: Path | None = None,
        read_keys: Callable[[Path], Sequence[DataKey]] | None = None,
    ) -> None:
        self._index_key = index_key
        # Set when the data keys come from the demo key file: a change to it (a
        # rotation adding a key) is picked up by a running service, read again
        # with `read_keys` (adapters/key_store.py, which builds keyrings).
        self._key_file = key_file
        self._read_keys = read_keys
        self._stamp = _stamp(key_file)
        self._keys = _build(keys)

    @property
    def key_file(self) -> Path | None:
        """The demo key file the data keys come from; None when they come from settings."""
        return self._key_file

    @property
    def current_id(self) -> str:
        self._refresh()
        return self._keys.current

    def seal(self, plain: str, place: str) -> str:
        self._refresh()
        keys = self._keys
        nonce = os.urandom(NONCE_BYTES)
        sealed = keys.ciphers[keys.current].encrypt(nonce, plain.encode(), place.encode())
        return f"{keys.current}:{base64.b64encode(nonce + sealed).decode()}"

    def open(self, sealed: str, place: str) -> str:
        key_id, _, body = sealed.partition(":")
        raw = from_base64(body)
        # The key id is named only when the value has the shape of a sealed one:
        # text stored in clear by mistake must not reach an error message.
        if not KEY_ID.fullmatch(key_id) or len(raw) < NONCE_BYTES + TAG_BYTES:
            raise CannotOpen(f"{place} does not hold a sealed value")
        cipher = self._cipher(key_id, place)
        try:
            plain = cipher.decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], place.encode())
        except InvalidTag:
            raise CannotOpen(
                f"{place} does not open under key {key_id}: altered, or moved from another place"
            ) from None
        return plain.decode()

    def seal_bytes(self, plain: bytes, place: str) -> bytes:
        # Base64 of the bytes, so one format serves text and binary columns.
        return self.seal(base64.b64encode(plain).decode(), place).encode()

    def open_bytes(self, sealed: bytes, place: str) -> bytes:
        return base64.b64decode(self.open(sealed.decode("ascii", errors="replace"), place))

    def is_current(self, sealed: str | bytes) -> bool:
        text = sealed.decode("ascii", errors="replace") if isinstance(sealed, bytes) else sealed
        return text.startswith(self.current_id + ":")

    def blind_index(self, text: str) -> str:
        return hmac.new(self._index_key, text.encode(), hashlib.sha256).hexdigest()

    def _cipher(self, key_id: str, place: str) -> AESGCM:
        cipher = self._keys.ciphers.get(key_id)
        if cipher is None:
            self._refresh(force=True)  # a key added to the demo file since we last read it
            cipher = self._keys.ciphers.get(key_id)
        if cipher is None:
            raise CannotOpen(f"{place} is sealed under key {key_id!r}, which is not configured")
        return cipher

    def _refresh(self, force: bool = False) -> None:
        if self._key_file is None or self._read_keys is None:
            return
        stamp = _stamp(self._key_file)
        if force or stamp != self._stamp:
            self._keys = _build(self._read_keys(self._key_file))
            self._stamp = stamp


def _build(keys: Sequence[DataKey]) -> _Keys:
    if not keys:
        raise KeyConfigError("no data key configured")
    return _Keys(keys[0].id, {key.id: AESGCM(key.key) for key in keys})


def _stamp(path: Path | None) -> tuple[int, int] | None:
    # A stat per seal costs microseconds; the inode changes with os.replace.
    if path is None:
        return None
    status = path.stat()
    return (status.st_ino, status.st_mtime_ns)


def rejection_place(entry_id: str) -> str:
    """Where a rejected intake entry is kept (`intake_rejections.raw_entry`)."""
    return f"intake_rejections/{entry_id}/raw_entry"


def attach(engine: Engine, keyring: Keyring) -> None:
    engine.update_execution_options(**{OPTION: keyring})


def of(conn: Connection) -> Keyring:
    return _attached(conn.get_execution_options().get(OPTION))


def of_engine(engine: Engine) -> Keyring:
    return _attached(engine.get_execution_options().get(OPTION))


def _attached(keyring: object) -> Keyring:
    if not isinstance(keyring, Keyring):
        raise KeyConfigError(
            "this database connection has no referral keyring: open the database "
            "through referral.bootstrap.database(settings)"
        )
    return keyring


def from_base64(encoded: str) -> bytes:
    try:
        return base64.b64decode(encoded.strip(), validate=True)
    except (binascii.Error, ValueError):  # ValueError: not ASCII at all
        return b""
