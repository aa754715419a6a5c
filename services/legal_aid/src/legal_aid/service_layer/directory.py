"""Loading the lawyer directory (`korpu seed`): validated, upserted by name, idempotent."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, Any

import pydantic
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.engine import Connection

from korpu_contracts import intake
from korpu_runtime.unit_of_work import UnitOfWork
from legal_aid.adapters import tables
from legal_aid.adapters.repository import Repository
from legal_aid.service_layer import handlers, positions

Language = Annotated[str, Field(min_length=2, max_length=16)]


class LawyerEntry(BaseModel):
    """One lawyer as written in the seed file's `lawyers` list.

    Strict, so a misspelt field is an error, never a silently missing one.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

    name: str = Field(min_length=1, max_length=200)
    # Names or codes the gazetteer knows; stored as codes (korpu_contracts.regions).
    regions: list[intake.Region] = Field(min_length=1)
    # At least one: an empty list would quietly send an interpreter with every case.
    languages: list[Language] = Field(min_length=1)
    max_caseload: int = Field(ge=0, le=1000)


class InvalidDirectory(ValueError):
    """Every problem of a directory, one line each: `lawyers[2].max_caseload: ...`."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("invalid lawyer directory:\n" + "\n".join(errors))
        self.errors = errors


@dataclass(frozen=True)
class Loaded:
    added: int
    updated: int
    # Waiting people given a lawyer because the directory added room.
    promoted: int

    @property
    def lawyers(self) -> int:
        return self.added + self.updated


_ENTRIES = pydantic.TypeAdapter(list[LawyerEntry])


def validate(entries: Sequence[Any]) -> list[LawyerEntry]:
    """All entries or none: raises InvalidDirectory naming every bad field, never its value."""
    try:
        lawyers = _ENTRIES.validate_python(entries)
    except pydantic.ValidationError as invalid:
        raise InvalidDirectory([_describe(error) for error in invalid.errors()]) from None
    seen: dict[str, int] = {}
    duplicates = []
    for index, lawyer in enumerate(lawyers):
        if lawyer.name in seen:
            duplicates.append(f"lawyers[{index}].name: same name as lawyers[{seen[lawyer.name]}]")
        seen.setdefault(lawyer.name, index)
    if duplicates:
        raise InvalidDirectory(duplicates)
    return lawyers


def load_directory(conn: Connection, entries: Sequence[Any]) -> Loaded:
    """Upsert by name (a second run adds nothing; a new cap replaces the old one).

    Lawyers missing from the file are kept: their open cases still count.
    Room added is given at once to the people waiting; their answers go to the
    outbox and leave with the service's relay, which polls for rows written by
    other processes. Rejected: waiting for the next case to end, which could
    leave someone on hold beside a free lawyer indefinitely.
    """
    lawyers = validate(entries)
    repository = Repository(conn)
    repository.lawyers(lock=True)
    added = sum(
        repository.upsert_lawyer(lawyer.name, lawyer.regions, lawyer.languages, lawyer.max_caseload)
        for lawyer in lawyers
    )
    uow = UnitOfWork(conn, tables.outbox, tables.inbox)
    promoted = handlers.fill_waitlist(uow, repository)
    positions.announce(uow, repository)
    return Loaded(added=added, updated=len(lawyers) - added, promoted=promoted)


def _describe(error: Any) -> str:
    path = "lawyers"
    for part in error["loc"]:
        path += f"[{part}]" if isinstance(part, int) else f".{part}"
    return f"{path}: {error['msg']}"
