"""The opaque cursor of `GET /v1/tasks`: the last row of a page, (updated_at, task_id).

Validated, not signed: it names only a place in the list its holder may read
whole anyway, so a forged one shows nothing more. Rejected: an HMAC with a
service secret, which would make every cursor die with a key rotation for no gain.
A cursor that does not read as one is refused (`InvalidCursor`, a 400).
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt

VERSION = "v1"
MAX_LENGTH = 200  # far above any cursor made here: a timestamp and a task id of 64
TASK_ID_LENGTH = 64


class InvalidCursor(ValueError):
    pass


def encode(updated_at: dt.datetime, task_id: str) -> str:
    text = f"{VERSION}|{updated_at.astimezone(dt.UTC).isoformat()}|{task_id}"
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def decode(cursor: str) -> tuple[dt.datetime, str]:
    if not cursor or len(cursor) > MAX_LENGTH:
        raise InvalidCursor("a cursor is what a page gave")
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        text = base64.urlsafe_b64decode(padded.encode("ascii")).decode()
        version, at, task_id = text.split("|")
        updated_at = dt.datetime.fromisoformat(at)
    except (UnicodeError, ValueError, binascii.Error):
        raise InvalidCursor("a cursor is what a page gave") from None
    if version != VERSION or updated_at.tzinfo is None:
        raise InvalidCursor("a cursor is what a page gave")
    if not 0 < len(task_id) <= TASK_ID_LENGTH:
        raise InvalidCursor("a cursor is what a page gave")
    return updated_at, task_id
