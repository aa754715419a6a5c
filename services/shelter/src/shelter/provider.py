"""The shelter as a provider of the kit (korpu_provider): beds, decided by `domain.placement`."""

from __future__ import annotations

from typing import Annotated, Any

import pydantic
from sqlalchemy.engine import Connection

from korpu_contracts import intake, referral, regions
from korpu_contracts.vocabulary import Service
from korpu_provider.answers import Detail
from korpu_provider.capacity import FreePlaces
from korpu_provider.tasks import Row, Tasks
from shelter.adapters import facilities, tables
from shelter.domain import model, placement

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


class Shelter:
    """Beds in facilities; the person's categories decide where they may sleep."""

    service = Service.SHELTER
    schema = tables.schema
    tasks = Tasks(tables.tasks, holds="facility_id", tombstone={"awaiting_request": True})
    directory_route = "facilities"
    completion_frees = True
    room_comes_with_time = False
    place_unit = "beds"
    entries = pydantic.TypeAdapter(list[ShelterEntry])
    directory = staticmethod(facilities.directory)
    decide = staticmethod(placement.decide)
    take = staticmethod(facilities.take)
    serves = staticmethod(model.serves)
    directory_view = staticmethod(facilities.view)

    def free_places(self, entry: model.Facility) -> FreePlaces:
        return FreePlaces(frozenset({entry.region}), entry.free_beds, entry.beds, entry.occupied)

    def attributes(self, requested: referral.TaskRequested) -> dict[str, Any]:
        return {
            "awaiting_request": False,
            "region": requested.region,
            "is_child": requested.is_child,
            "sex": str(requested.sex),
            "accompanying_children": requested.accompanying_children,
            "pregnant": requested.pregnant,
            "disability": requested.disability,
        }

    def request_of(self, task: Row) -> model.BedRequest:
        return model.BedRequest(
            task_id=task.task_id,
            # A name stored before regions were codes is read as its code.
            region=regions.code_or_as_sent(task.region or ""),
            is_child=task.is_child,
            sex=task.sex,
            accompanying_children=task.accompanying_children,
            queued_seq=task.queued_seq,
            # NULL in a row stored before they were kept: not said, as the contract's default.
            pregnant=bool(task.pregnant),
            disability=bool(task.disability),
        )

    def given(self, entry: model.Facility, request: model.BedRequest) -> Detail:
        return model.placement_detail(entry, request.region)

    def shown(self, conn: Connection, task: Row) -> dict[str, Any]:
        if task.facility_id is None:
            return {"facility": None}
        found = facilities.directory(conn, lock=False)[task.facility_id]
        return {"facility": {"id": found.id, "name": found.name, "region": found.region}}

    def release(self, conn: Connection, task: Row) -> None:
        facilities.release(conn, task.facility_id)

    def upsert(self, conn: Connection, entry: ShelterEntry) -> bool:
        serves = sorted({str(category) for category in entry.serves})
        values = entry.model_dump(exclude={"name"}) | {"serves": serves}
        return facilities.upsert(conn, entry.name, values)
