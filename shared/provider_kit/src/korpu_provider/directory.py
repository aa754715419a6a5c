"""Loading a provider's directory from its section of a seed file (`korpu seed`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pydantic
from sqlalchemy.engine import Connection

from korpu_provider.handlers import AnyProvider, Handlers
from korpu_runtime.unit_of_work import UnitOfWork


class InvalidDirectory(ValueError):
    """The entries cannot be loaded; `errors` names each bad field (never its value)."""

    def __init__(self, key: str, problems: list[str]) -> None:
        super().__init__(f"invalid {key}:\n  " + "\n  ".join(problems))
        self.errors = problems


@dataclass(frozen=True)
class Loaded:
    added: int
    updated: int
    # People taken off the waitlist because the load added room.
    promoted: int


def validate(provider: AnyProvider, entries: Sequence[Any]) -> list[Any]:
    """All entries or none: raises InvalidDirectory naming every bad field, `shelters[0].beds`."""
    key = provider.service.seed_key
    try:
        valid = provider.entries.validate_python(entries)
    except pydantic.ValidationError as invalid:
        found = invalid.errors(include_input=False, include_url=False, include_context=False)
        raise InvalidDirectory(key, [_described(key, error) for error in found]) from None
    first: dict[str, int] = {}
    twice = []
    for index, entry in enumerate(valid):
        if entry.name in first:
            twice.append(f"{key}[{index}].name: {entry.name!r} appears twice")
        first.setdefault(entry.name, index)
    if twice:
        raise InvalidDirectory(key, twice)
    return valid


def _described(key: str, error: Any) -> str:
    """`shelters[0].serves[1]: message`, as a person editing the seed file would look for it;
    never the value."""
    where = key
    for part in error["loc"]:
        where += f"[{part}]" if isinstance(part, int) else f".{part}"
    return f"{where}: {error['msg']}"


def load(provider: AnyProvider, conn: Connection, entries: Sequence[Any]) -> Loaded:
    """Add or update every entry by name, in one transaction with the caller.

    Running it twice changes nothing the second time; entries missing from the
    file are kept (their open tasks still count). Where room grew, the people
    waiting get it at once: their answers go to the outbox and the running
    service's relay sends them (its poll covers other processes). Rejected:
    leaving them waiting until the next cancellation, for places that exist.
    """
    valid = validate(provider, entries)
    provider.directory(conn, lock=True)
    added = sum(provider.upsert(conn, entry) for entry in valid)
    schema = provider.schema
    uow = UnitOfWork(conn, schema.outbox, schema.inbox)
    handlers = Handlers(provider)
    promoted = handlers.fill(uow)
    handlers.announce(uow, provider.directory(conn, lock=True))
    return Loaded(added=added, updated=len(valid) - added, promoted=promoted)
