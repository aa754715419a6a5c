"""Loading the program directory (`korpu seed`): validate every entry, upsert by name."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, TypeAdapter, ValidationError
from sqlalchemy.engine import Connection

from employment.adapters import tables
from employment.adapters.repository import Repository
from employment.service_layer import positions, seats
from korpu_contracts import intake
from korpu_runtime.unit_of_work import UnitOfWork

ProgramName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


class ProgramEntry(BaseModel):
    """One program of the seed file's `programs` list.

    `languages` and `min_age` have no default on purpose: a forgotten key would
    silently open a program to every language or to children of any age.
    `languages: []` is how to say "taught in whatever language is needed".
    """

    # An unknown key is refused, so a misspelt one ("min-age") is never silently dropped.
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: ProgramName
    region: intake.Region
    seats: int = Field(ge=0, le=100_000)
    languages: list[intake.LanguageCode] = Field(max_length=50)
    min_age: int = Field(ge=0, le=120)


_ENTRIES = TypeAdapter(list[ProgramEntry])


class InvalidDirectory(ValueError):
    """Every problem in the entries, each as `programs[i].field: message`."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("invalid programs:\n  " + "\n  ".join(errors))
        self.errors = errors


@dataclass(frozen=True)
class Loaded:
    added: int
    updated: int
    # People on the waitlist given a seat that the new capacity opened.
    promoted: int


def validate(entries: Sequence[dict[str, Any]]) -> list[ProgramEntry]:
    try:
        programs = _ENTRIES.validate_python(entries)
    except ValidationError as invalid:
        raise InvalidDirectory([_describe(error) for error in invalid.errors()]) from None
    repeated = [name for name, count in Counter(p.name for p in programs).items() if count > 1]
    if repeated:
        raise InvalidDirectory([f"programs: name {name!r} appears twice" for name in repeated])
    return programs


def _describe(error: Any) -> str:
    where = "programs"
    for part in error["loc"]:
        where += f"[{part}]" if isinstance(part, int) else f".{part}"
    return f"{where}: {error['msg']}"


def load_directory(conn: Connection, entries: Sequence[dict[str, Any]]) -> Loaded:
    """Add new programs and update known ones (same name) in the caller's transaction.

    Loading the same file twice changes nothing; changed seats take effect and
    keep who is enrolled. Seats a change frees go at once to the people waiting:
    the promotions leave through the outbox like any other answer, sent by the
    service's relay. Rejected: leaving them for the next cancellation, while a
    newcomer could take a seat ahead of people who waited.
    """
    programs = validate(entries)
    repository = Repository(conn)
    repository.lock_directory()
    added = updated = 0
    for entry in programs:
        values = entry.model_dump()
        program_id = repository.program_id_by_name(entry.name)
        if program_id is None:
            repository.add_program(values)
            added += 1
        else:
            repository.update_program(program_id, values)
            updated += 1
    uow = UnitOfWork(conn, tables.outbox, tables.inbox)
    every_program = sorted(repository.lock_directory())
    promoted = seats.promote(uow, repository, every_program, cause=None)
    positions.announce(uow, repository)
    return Loaded(added=added, updated=updated, promoted=promoted)
