"""Loading the shelter directory from a seed file's `shelters` entries (`korpu seed`)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Annotated, Any

import pydantic
from sqlalchemy.engine import Connection

from korpu_contracts import intake
from korpu_runtime import errors
from korpu_runtime.unit_of_work import UnitOfWork
from shelter.adapters import tables
from shelter.adapters.repository import ShelterRepository
from shelter.domain import model
from shelter.service_layer import handlers, positions

Text = Annotated[str, pydantic.StringConstraints(strip_whitespace=True, min_length=1)]


class ShelterEntry(pydantic.BaseModel):
    """One facility as the seed file spells it; a misspelt field is refused, not dropped."""

    model_config = pydantic.ConfigDict(extra="forbid", frozen=True)

    name: Annotated[Text, pydantic.Field(max_length=200)]
    # Any name or code the gazetteer knows; stored as the code (korpu_contracts.regions).
    region: intake.Region
    serves: list[model.Category] = pydantic.Field(min_length=1)
    beds: int = pydantic.Field(ge=0, le=10_000)
    # A separate children's unit: children may be housed here though adults are served.
    child_unit: pydantic.StrictBool = False
    accepts_pregnant: pydantic.StrictBool = True
    accessible: pydantic.StrictBool = False


ENTRIES = pydantic.TypeAdapter(list[ShelterEntry])


class InvalidDirectory(ValueError):
    """The entries cannot be loaded; `problems` names each bad field, nothing is written."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("invalid shelter directory: " + "; ".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class Loaded:
    added: int
    updated: int
    # People taken off the waitlist because the load added beds.
    promoted: int


def validate(entries: list[dict[str, Any]]) -> list[ShelterEntry]:
    try:
        shelters = ENTRIES.validate_python(entries)
    except pydantic.ValidationError as invalid:
        problems = errors.field_errors(invalid)
        raise InvalidDirectory(
            [f"{_located(path)}: {message}" for path, message in problems]
        ) from None
    twice = [name for name, count in Counter(s.name for s in shelters).items() if count > 1]
    if twice:
        raise InvalidDirectory(
            [f"shelters: name {name!r} appears more than once" for name in twice]
        )
    return shelters


def _located(path: str) -> str:
    """`0.beds` -> `shelters[0].beds`, as a person editing the seed file would look for it."""
    index, _, field = path.partition(".")
    if not index.isdigit():
        return "shelters"
    return f"shelters[{index}]" + (f".{field}" if field else "")


def load_directory(conn: Connection, entries: list[dict[str, Any]]) -> Loaded:
    """Add or update every facility by name, in one transaction with the caller.

    Running it twice changes nothing the second time. Where capacity grew, the
    people waiting get the new beds at once; their answers go to the outbox and
    the running service's relay sends them (its poll covers other processes).
    Rejected: leaving them waiting until the next cancellation, for beds that exist.
    """
    shelters = validate(entries)
    uow = UnitOfWork(conn, tables.outbox, tables.inbox)
    repository = ShelterRepository(conn)
    repository.lock_directory()
    added = promoted = 0
    for shelter in shelters:
        serves = sorted({str(category) for category in shelter.serves})
        entry = shelter.model_dump(exclude={"name"}) | {"serves": serves}
        facility, created = repository.upsert_facility(shelter.name, entry)
        added += created
        promoted += handlers.fill(uow, repository, facility)
    positions.announce(uow, repository)
    return Loaded(added=added, updated=len(shelters) - added, promoted=promoted)
