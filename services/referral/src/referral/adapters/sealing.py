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
import contextlib
import dataclasses
import datetime as dt
import fcntl
import hashlib
import hmac
import json
import os
import re
import secrets
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy.engine import Connection, Engine

from korpu_runtime import settings

KEY_BYTES = 32
NONCE_BYTES = 12
TAG_BYTES = 16
KEY_FILE = "referral-keys.json"
OPTION = "referral_keyring"
_KEY_ID = re.compile(r"[A-Za-z0-9_-]{1,32}")
# What sample files and templates put where a secret goes (the full-stack
# FastAPI template refuses `changethis` the same way).
PLACEHOLDERS = ("change", "placeholder", "example", "secret", "xxx", "todo", "your")


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
        self, keys: Sequence[DataKey], index_key: bytes, key_file: Path | None = None
    ) -> None:
        self._index_key = index_key
        # Set when the data keys come from the demo key file: a change to it (a
        # rotation adding a key) is picked up by a running service.
        self._key_file = key_file
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
        raw = _decoded(body)
        # The key id is named only when the value has the shape of a sealed one:
        # text stored in clear by mistake must not reach an error message.
        if not _KEY_ID.fullmatch(key_id) or len(raw) < NONCE_BYTES + TAG_BYTES:
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
        if self._key_file is None:
            return
        stamp = _stamp(self._key_file)
        if force or stamp != self._stamp:
            self._keys = _build(read_key_file(self._key_file).data_keys)
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


# Reading keys from settings ------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class KeyFile:
    data_keys: list[DataKey]
    index_key: bytes = dataclasses.field(repr=False)


def keyring_from(env: str, data_keys: str, index_key: str, data_dir: Path) -> Keyring:
    """The keyring from settings; in demo mode, what is missing comes from the data dir's file.

    Outside demo mode a missing or placeholder key stops the service at start:
    running with a guessable key would look safe and not be.
    """
    demo = env == "demo"
    file = key_file(data_dir) if demo and not (data_keys.strip() and index_key.strip()) else None
    stored = ensure_key_file(file) if file is not None else None
    if data_keys.strip():
        keys, from_file = parse_data_keys(data_keys), None
    elif stored is not None:
        keys, from_file = stored.data_keys, file
    else:
        raise KeyConfigError(
            "REFERRAL_DATA_KEYS is not set: outside demo mode (KORPU_ENV) the referral "
            "service needs a data key; make one with `korpu keys generate`"
        )
    if index_key.strip():
        index = parse_index_key(index_key)
    elif stored is not None:
        index = stored.index_key
    else:
        raise KeyConfigError(
            "REFERRAL_BLIND_INDEX_KEY is not set: outside demo mode (KORPU_ENV) the referral "
            "service needs one; make one with `korpu keys generate --blind-index`"
        )
    return Keyring(keys, index, from_file)


def parse_data_keys(text: str) -> list[DataKey]:
    """`id:base64key,id2:base64key`: the first seals, every one opens."""
    keys: list[DataKey] = []
    for number, entry in enumerate(filter(None, (e.strip() for e in text.split(","))), 1):
        key_id, _, encoded = entry.partition(":")
        where = f"REFERRAL_DATA_KEYS entry {number}"
        _refuse_placeholder(entry, encoded, where)
        if not _KEY_ID.fullmatch(key_id):
            raise KeyConfigError(f"{where}: the key id must be 1-32 letters, digits, - or _")
        keys.append(DataKey(key_id, _decode_key(encoded, where)))
    if len({key.id for key in keys}) != len(keys):
        raise KeyConfigError("REFERRAL_DATA_KEYS names one key id twice")
    if not keys:
        raise KeyConfigError("REFERRAL_DATA_KEYS holds no key")
    return keys


def parse_index_key(text: str) -> bytes:
    _refuse_placeholder(text, text, "REFERRAL_BLIND_INDEX_KEY")
    return _decode_key(text.strip(), "REFERRAL_BLIND_INDEX_KEY")


def _refuse_placeholder(text: str, encoded: str, where: str) -> None:
    # Only a value that is no key at all: a random key's base64 may well hold "xxx".
    if _is_key(encoded):
        return
    if any(word in text.casefold() for word in PLACEHOLDERS):
        raise KeyConfigError(
            f"{where} is a placeholder, not a key: make one with `korpu keys generate`"
        )


def _is_key(encoded: str) -> bool:
    return len(_decoded(encoded)) == KEY_BYTES


def _decoded(encoded: str) -> bytes:
    try:
        return base64.b64decode(encoded.strip(), validate=True)
    except (binascii.Error, ValueError):  # ValueError: not ASCII at all
        return b""


def _decode_key(encoded: str, where: str) -> bytes:
    key = _decoded(encoded)
    if len(key) != KEY_BYTES:
        raise KeyConfigError(f"{where}: the key must be {KEY_BYTES} bytes in base64")
    if len(set(key)) < 8:
        raise KeyConfigError(f"{where}: the key is not random (too few distinct bytes)")
    return key


# The demo key file ---------------------------------------------------------------------


def key_file(data_dir: Path) -> Path:
    return data_dir / KEY_FILE


def ensure_key_file(path: Path) -> KeyFile:
    """Read the key file, creating it (mode 0600) with fresh keys on first start."""
    if not path.exists():
        fresh = KeyFile([DataKey.generate()], secrets.token_bytes(KEY_BYTES))
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = _write_private(path, fresh)
        # Two processes starting at once: the first link wins, the other reads it.
        with contextlib.suppress(FileExistsError):
            os.link(temporary, path)
        temporary.unlink()
    return read_key_file(path)


def read_key_file(path: Path) -> KeyFile:
    try:
        data = json.loads(path.read_text())
        return KeyFile(
            parse_data_keys(",".join(data["data_keys"])), parse_index_key(data["blind_index_key"])
        )
    except (ValueError, KeyError, TypeError) as error:
        raise KeyConfigError(
            f"the key file {path} is unreadable ({type(error).__name__})"
        ) from None


def add_data_key(path: Path) -> DataKey:
    """Put a fresh data key first in the key file: it seals from now on, the others still open."""
    with _locked(path):
        stored = ensure_key_file(path)
        key = DataKey.generate()
        temporary = _write_private(path, KeyFile([key, *stored.data_keys], stored.index_key))
        os.replace(temporary, path)
    return key


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    # Two rotations at once would each write the file and one key would be lost,
    # with the rows it sealed.
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_suffix(".lock"), "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def _write_private(path: Path, keys: KeyFile) -> Path:
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    content: dict[str, Any] = {
        "data_keys": [key.line() for key in keys.data_keys],
        "blind_index_key": base64.b64encode(keys.index_key).decode(),
    }
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        json.dump(content, handle, indent=2)
        handle.flush()
        os.fsync(handle.fileno())
    return temporary


def generate_index_key() -> str:
    return base64.b64encode(secrets.token_bytes(KEY_BYTES)).decode()
