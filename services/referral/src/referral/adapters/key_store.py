"""Where the referral service's keys come from: settings, or the demo key file.

Outside demo mode, REFERRAL_DATA_KEYS and REFERRAL_BLIND_INDEX_KEY, refused when
missing, malformed or a placeholder. In demo mode what is missing comes from a
file in the keys folder (KORPU_KEYS_DIR, `<data dir>/keys` by default; 0700),
made on first start (mode 0600) and given a new key first by `korpu keys rotate`.
Kept apart from the data so that a copy of one is not a copy of the other.
"""

from __future__ import annotations

import base64
import contextlib
import dataclasses
import fcntl
import json
import os
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from korpu_runtime import logging as runtime_logging
from korpu_runtime import private
from referral.adapters import sealing

log = runtime_logging.get(__name__)

KEY_FILE = "referral-keys.json"
# What sample files and templates put where a secret goes (the full-stack
# FastAPI template refuses `changethis` the same way).
PLACEHOLDERS = ("change", "placeholder", "example", "secret", "xxx", "todo", "your")


@dataclasses.dataclass(frozen=True)
class KeyFile:
    data_keys: list[sealing.DataKey]
    index_key: bytes = dataclasses.field(repr=False)


def keyring_from(
    env: str, data_keys: str, index_key: str, keys_dir: Path, data_dir: Path
) -> sealing.Keyring:
    """The keyring from settings; in demo mode, what is missing comes from the keys folder's file.

    Outside demo mode a missing or placeholder key stops the service at start:
    running with a guessable key would look safe and not be. `data_dir` is where
    an older build kept the file: one found there is moved to `keys_dir`.
    """
    demo = env == "demo"
    wanted = demo and not (data_keys.strip() and index_key.strip())
    file = key_file(keys_dir, data_dir) if wanted else None
    stored = ensure_key_file(file) if file is not None else None
    if data_keys.strip():
        keys, from_file = parse_data_keys(data_keys), None
    elif stored is not None:
        keys, from_file = stored.data_keys, file
    else:
        raise sealing.KeyConfigError(
            "REFERRAL_DATA_KEYS is not set: outside demo mode (KORPU_ENV) the referral "
            "service needs a data key; make one with `korpu keys generate`"
        )
    if index_key.strip():
        index = parse_index_key(index_key)
    elif stored is not None:
        index = stored.index_key
    else:
        raise sealing.KeyConfigError(
            "REFERRAL_BLIND_INDEX_KEY is not set: outside demo mode (KORPU_ENV) the referral "
            "service needs one; make one with `korpu keys generate --blind-index`"
        )
    return sealing.Keyring(keys, index, from_file, _data_keys_in)


def parse_data_keys(text: str) -> list[sealing.DataKey]:
    """`id:base64key,id2:base64key`: the first seals, every one opens."""
    keys: list[sealing.DataKey] = []
    for number, entry in enumerate(filter(None, (e.strip() for e in text.split(","))), 1):
        key_id, _, encoded = entry.partition(":")
        where = f"REFERRAL_DATA_KEYS entry {number}"
        _refuse_placeholder(entry, encoded, where)
        if not sealing.KEY_ID.fullmatch(key_id):
            raise sealing.KeyConfigError(
                f"{where}: the key id must be 1-32 letters, digits, - or _"
            )
        keys.append(sealing.DataKey(key_id, _decode_key(encoded, where)))
    if len({key.id for key in keys}) != len(keys):
        raise sealing.KeyConfigError("REFERRAL_DATA_KEYS names one key id twice")
    if not keys:
        raise sealing.KeyConfigError("REFERRAL_DATA_KEYS holds no key")
    return keys


def parse_index_key(text: str) -> bytes:
    _refuse_placeholder(text, text, "REFERRAL_BLIND_INDEX_KEY")
    return _decode_key(text.strip(), "REFERRAL_BLIND_INDEX_KEY")


def _refuse_placeholder(text: str, encoded: str, where: str) -> None:
    # Only a value that is no key at all: a random key's base64 may well hold "xxx".
    if _is_key(encoded):
        return
    if any(word in text.casefold() for word in PLACEHOLDERS):
        raise sealing.KeyConfigError(
            f"{where} is a placeholder, not a key: make one with `korpu keys generate`"
        )


def _is_key(encoded: str) -> bool:
    return len(sealing.from_base64(encoded)) == sealing.KEY_BYTES


def _decode_key(encoded: str, where: str) -> bytes:
    key = sealing.from_base64(encoded)
    if len(key) != sealing.KEY_BYTES:
        raise sealing.KeyConfigError(
            f"{where}: the key must be {sealing.KEY_BYTES} bytes in base64"
        )
    if len(set(key)) < 8:
        raise sealing.KeyConfigError(f"{where}: the key is not random (too few distinct bytes)")
    return key


# The demo key file ---------------------------------------------------------------------


def key_file(keys_dir: Path, data_dir: Path | None = None) -> Path:
    """The demo key file in `keys_dir`; one an older build left in `data_dir` is moved there
    first, so the data it sealed still opens. Rejected: reading it where it is, which
    would keep the keys in every copy of the data folder."""
    path = private.folder(keys_dir) / KEY_FILE
    old = None if data_dir is None else data_dir / KEY_FILE
    if old is not None and old != path and old.exists() and not path.exists():
        _move(old, path)
    return path


def _move(old: Path, path: Path) -> None:
    # Copied then linked into place, then the old one removed: the same on one file
    # system or two, and two processes starting at once both end with the one file.
    # Rejected: os.rename, which fails across file systems (a keys folder on another
    # volume is the point).
    try:
        content = old.read_bytes()
    except FileNotFoundError:
        return  # moved meanwhile by another process
    temporary = _temporary(path)
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, private.FILE_MODE)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(content)
        handle.flush()
        os.fsync(handle.fileno())
    with contextlib.suppress(FileExistsError):
        os.link(temporary, path)
    temporary.unlink()
    if read_key_file(path) != read_key_file(old):
        # Another process made fresh keys there meanwhile: the old file stays, for
        # the operator to choose (the data it sealed opens only with it).
        log.error("demo_key_file_not_moved", source=str(old), destination=str(path))
        return
    old.unlink(missing_ok=True)
    old.with_suffix(".lock").unlink(missing_ok=True)
    log.warning("demo_key_file_moved", source=str(old), destination=str(path))


def ensure_key_file(path: Path) -> KeyFile:
    """Read the key file, creating it (mode 0600) with fresh keys on first start."""
    if not path.exists():
        fresh = KeyFile([sealing.DataKey.generate()], secrets.token_bytes(sealing.KEY_BYTES))
        private.folder(path.parent)
        temporary = _write_private(path, fresh)
        # Two processes starting at once: the first link wins, the other reads it.
        with contextlib.suppress(FileExistsError):
            os.link(temporary, path)
        temporary.unlink()
    return read_key_file(path)


def _data_keys_in(path: Path) -> list[sealing.DataKey]:
    return read_key_file(path).data_keys


def read_key_file(path: Path) -> KeyFile:
    try:
        data = json.loads(path.read_text())
        return KeyFile(
            parse_data_keys(",".join(data["data_keys"])), parse_index_key(data["blind_index_key"])
        )
    except (ValueError, KeyError, TypeError) as error:
        raise sealing.KeyConfigError(
            f"the key file {path} is unreadable ({type(error).__name__})"
        ) from None


def add_data_key(path: Path) -> sealing.DataKey:
    """Put a fresh data key first in the key file: it seals from now on, the others still open."""
    with _locked(path):
        stored = ensure_key_file(path)
        key = sealing.DataKey.generate()
        temporary = _write_private(path, KeyFile([key, *stored.data_keys], stored.index_key))
        os.replace(temporary, path)
    return key


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    # Two rotations at once would each write the file and one key would be lost,
    # with the rows it sealed.
    private.folder(path.parent)
    with open(path.with_suffix(".lock"), "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def _temporary(path: Path) -> Path:
    return path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")


def _write_private(path: Path, keys: KeyFile) -> Path:
    temporary = _temporary(path)
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
    return base64.b64encode(secrets.token_bytes(sealing.KEY_BYTES)).decode()
