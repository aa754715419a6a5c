"""Medical help as a provider of the kit (korpu_provider): clinic days, `domain.booking`."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Annotated, Any

import pydantic
from sqlalchemy.engine import Connection

from korpu_contracts import intake, referral, regions
from korpu_contracts.vocabulary import Service
from korpu_provider import categories
from korpu_provider.answers import Detail
from korpu_provider.capacity import FreePlaces
from korpu_provider.tasks import Row, Tasks
from medical.adapters import clinics, tables
from medical.domain import booking, model

# The clinics' days are Azerbaijan's: UTC+4, with no daylight saving since 2016.
# Rejected: the host's zone, which a container sets to UTC, turning "tomorrow" over
# four hours late.
AZERBAIJAN = dt.timezone(dt.timedelta(hours=4))


def today_in_azerbaijan() -> dt.date:
    return dt.datetime.now(AZERBAIJAN).date()


def _people_only(serves: list[categories.Category]) -> list[categories.Category]:
    if categories.Category.FAMILIES in serves:
        raise ValueError("a clinic examines people: women, men, girls or boys, not families")
    return serves


class ClinicEntry(pydantic.BaseModel):
    """One clinic as the seed file's `clinics` list spells it; a misspelt field is refused."""

    model_config = pydantic.ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

    name: str = pydantic.Field(min_length=1, max_length=200)
    # Any name or code the gazetteer knows; stored as the code (korpu_contracts.regions).
    region: intake.Region
    serves: Annotated[
        list[categories.Category],
        pydantic.Field(min_length=1),
        pydantic.AfterValidator(_people_only),
    ]
    appointments_per_day: int = pydantic.Field(ge=0, le=1000)
    booking_days: int = pydantic.Field(default=model.BOOKING_DAYS, ge=1, le=366)


class Medical:
    """First examinations at clinics (CoE art. 12(1)(b)), a few a day, booked on open days.

    `today` is the clock the open days start from (`model.open_days`); a test sets it.
    """

    service = Service.MEDICAL
    schema = tables.schema
    tasks = Tasks(tables.tasks, holds="clinic_id")
    directory_route = "clinics"
    # An examination held is spent: completing it frees no appointment for anyone.
    completion_frees = False
    # Each night opens a day: the people waiting get it before the next newcomer.
    room_comes_with_time = True
    # The appointments of its open days from tomorrow (`model.open_days`), not a
    # standing capacity: each night one day closes and another opens.
    place_unit = "appointments"
    entries = pydantic.TypeAdapter(list[ClinicEntry])
    decide = staticmethod(booking.decide)
    serves = staticmethod(model.serves)

    def __init__(self, today: Callable[[], dt.date] = today_in_azerbaijan) -> None:
        self.today = today

    def directory(self, conn: Connection, *, lock: bool) -> dict[str, model.Clinic]:
        return clinics.directory(conn, lock=lock, today=self.today())

    def directory_view(self, conn: Connection) -> list[dict[str, Any]]:
        return clinics.view(conn, self.today())

    def attributes(self, requested: referral.TaskRequested) -> dict[str, Any]:
        return {
            "region": requested.region,
            "is_child": requested.is_child,
            "sex": str(requested.sex),
        }

    def request_of(self, task: Row) -> model.ExaminationRequest:
        return model.ExaminationRequest(
            task_id=task.task_id,
            region=regions.code_or_as_sent(task.region or ""),
            # NULL only in a tombstone, which is never decided (korpu_provider.tasks).
            is_child=bool(task.is_child),
            sex=task.sex or "",
            queued_seq=task.queued_seq,
        )

    def take(
        self, conn: Connection, entry: model.Clinic, request: model.ExaminationRequest
    ) -> Detail:
        day = entry.free_day
        assert day is not None, "the kit gives only an entry with room"
        clinics.book(conn, entry.id, day)
        # Kept on the task and told: the day is what the person needs to know, and
        # what a cancellation gives back.
        return {"appointment": day.isoformat()}

    def free_places(self, entry: model.Clinic) -> FreePlaces:
        return FreePlaces(frozenset({entry.region}), entry.free, entry.capacity, entry.taken)

    def release(self, conn: Connection, task: Row) -> None:
        clinics.free(conn, task.clinic_id, dt.date.fromisoformat(task.appointment))

    def given(self, entry: model.Clinic, request: model.ExaminationRequest) -> Detail:
        # `out_of_region` only when true, as the shelter's answer.
        detail: Detail = {"clinic": entry.name}
        if entry.region != request.region:
            detail["out_of_region"] = True
        return detail

    def shown(self, conn: Connection, task: Row) -> dict[str, Any]:
        held = clinics.directory(conn, lock=False, today=self.today()).get(task.clinic_id or "")
        return {
            "clinic": None if held is None else {"name": held.name, "region": held.region},
            "appointment": task.appointment,
        }

    def upsert(self, conn: Connection, entry: ClinicEntry) -> bool:
        serves = sorted({str(category) for category in entry.serves})
        return clinics.upsert(
            conn, entry.name, entry.model_dump(exclude={"name"}) | {"serves": serves}
        )
