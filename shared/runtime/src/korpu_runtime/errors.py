"""Error descriptions safe to log and publish: where and what, never the value."""

from __future__ import annotations

import re
from collections.abc import Sequence

import sqlalchemy.exc
from pydantic import ValidationError

from korpu_contracts import vocabulary

# A part of an error's location is either a field name or a key the sender chose (an
# unknown field, a mapping key), which is input like any value and could be a name.
# Field names here are snake_case, and so is nearly every misspelling of one, so such a
# part is kept and tells the sender what to fix ("bedz"); any other is not shown.
# pydantic's own parts ("[key]", "function-after[...]") are kept. Rejected: hiding
# every unknown key, which leaves a sender guessing which field it misspelt; and
# keeping them all, which echoes `{"Aysel Məmmədova": ...}` into logs and events.
_SAFE_PART = re.compile(r"[a-z_][a-z0-9_]{0,63}|\[key\]|[a-z-]+\[[^\]]*\]")
HIDDEN_PART = "(not shown)"
# Whose exceptions tell their text: ours (they name ids and fields, never values),
# Redis's and the system's (addresses, timeouts). Any other library's text may hold
# what it was handed, a value from a request: only its kind is told. Rejected:
# telling every text, which put a person's name in a log line through a plain
# `RuntimeError(f"could not store {value!r}")` of a library.
_TOLD_MODULES = ("korpu_", "referral", *map(str, vocabulary.Service), "redis", "faststream")


def field_path(location: Sequence[int | str]) -> str:
    """The dotted path of one error's location, with any part that could be personal hidden."""
    parts = [
        str(part) if isinstance(part, int) or _SAFE_PART.fullmatch(part) else HIDDEN_PART
        for part in location
    ]
    return ".".join(parts)


def field_errors(error: ValidationError) -> list[tuple[str, str]]:
    """(dotted field path, message) per bad field; pydantic's `input` is left out on purpose."""
    described = []
    for item in error.errors(include_input=False, include_url=False, include_context=False):
        described.append((field_path(item["loc"]) or "(body)", item["msg"]))
    return described


def describe(error: BaseException) -> str:
    """One line for logs: the error's kind, and for validation only the field paths."""
    if isinstance(error, ValidationError):
        fields = ", ".join(path for path, _ in field_errors(error))
        return f"{type(error).__name__}: invalid {fields}"
    if isinstance(error, sqlalchemy.exc.StatementError):
        # Its text holds the statement's parameters (the referral service's are a
        # person), and the driver's own message a DETAIL line with the key's value
        # (PostgreSQL): only the driver's first line is kept.
        cause = error.orig
        first = str(cause).splitlines()[0] if str(cause) else ""
        return f"{type(error).__name__}: {type(cause).__name__}: {first}"
    told = isinstance(error, (OSError, TimeoutError)) or type(error).__module__.startswith(
        _TOLD_MODULES
    )
    return f"{type(error).__name__}: {error if told else '(message not shown)'}"
