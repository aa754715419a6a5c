"""Employment as a provider of the kit (korpu_provider): seats, decided by `domain.enrolment`."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, TypeAdapter
from sqlalchemy.engine import Connection

from employment.adapters import programs, tables
from employment.domain import enrolment, model
from korpu_contracts import intake, referral, regions
from korpu_contracts.vocabulary import Service
from korpu_provider.answers import Detail
from korpu_provider.capacity import FreePlaces
from korpu_provider.tasks import Row, Tasks

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


class Employment:
    """Seats in vocational programs (CoE art. 12(4)); age and language decide who is admitted."""

    service = Service.EMPLOYMENT
    schema = tables.schema
    # A tombstone's NOT NULL columns: no request yet, so no child and no language.
    tasks = Tasks(
        tables.tasks,
        holds="program_id",
        tombstone={"requested": False, "is_child": False, "languages": []},
    )
    directory_route = "programs"
    completion_frees = True
    room_comes_with_time = False
    place_unit = "seats"
    entries = TypeAdapter(list[ProgramEntry])
    directory = staticmethod(programs.directory)
    decide = staticmethod(enrolment.decide)
    take = staticmethod(programs.take)
    serves = staticmethod(model.admits)

    def free_places(self, entry: model.Program) -> FreePlaces:
        return FreePlaces(frozenset({entry.region}), entry.free_seats, entry.seats, entry.enrolled)

    def attributes(self, requested: referral.TaskRequested) -> dict[str, Any]:
        return {
            "requested": True,
            "region": requested.region,
            "age_years": requested.age_years,
            "is_child": requested.is_child,
            "languages": sorted(set(requested.languages)),
        }

    def request_of(self, task: Row) -> model.SeatRequest:
        return model.SeatRequest(
            task_id=task.task_id,
            # A name stored before regions were codes is read as its code.
            region=regions.code_or_as_sent(task.region or ""),
            age_years=task.age_years,
            is_child=task.is_child,
            languages=frozenset(task.languages),
            queued_seq=task.queued_seq,
        )

    def given(self, entry: model.Program, request: model.SeatRequest) -> Detail:
        # What was given, never who else is in it (the agency contract, README); and,
        # only when true, that it is outside the region asked for.
        detail: Detail = {"program": entry.name, "region": entry.region}
        if entry.region != request.region:
            detail["out_of_region"] = True
        return detail

    def shown(self, conn: Connection, task: Row) -> dict[str, Any]:
        held = programs.directory(conn, lock=False).get(task.program_id or "")
        where = None if held is None else {"id": held.id, "name": held.name, "region": held.region}
        return {"program": where}

    def release(self, conn: Connection, task: Row) -> None:
        programs.release(conn, task.program_id)

    def upsert(self, conn: Connection, entry: ProgramEntry) -> bool:
        return programs.upsert(conn, entry.model_dump())

    def directory_view(self, conn: Connection) -> list[dict[str, Any]]:
        waiting = [self.request_of(task) for task in self.tasks.waiting(conn)]
        return programs.view(conn, waiting)
