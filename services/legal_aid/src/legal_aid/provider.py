"""Legal aid as a provider of the kit (korpu_provider): lawyers, chosen by `domain.assignment`."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter
from sqlalchemy.engine import Connection

from korpu_contracts import intake, referral
from korpu_contracts.vocabulary import Service
from korpu_provider.answers import Detail
from korpu_provider.capacity import Room
from korpu_provider.tasks import Row, Tasks
from legal_aid.adapters import lawyers, tables
from legal_aid.domain import assignment, model

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


class LegalAid:
    """Lawyers giving free legal aid (CoE art. 15) in their regions, up to a caseload cap."""

    service = Service.LEGAL_AID
    schema = tables.schema
    tasks = Tasks(tables.tasks, holds="lawyer_id", tombstone={"languages": [], "is_child": False})
    directory_route = "lawyers"
    completion_frees = True
    entries = TypeAdapter(list[LawyerEntry])
    directory = staticmethod(lawyers.directory)
    decide = staticmethod(assignment.decide)
    serves = staticmethod(model.covers)
    directory_view = staticmethod(lawyers.view)

    def room(self, entry: model.Lawyer) -> Room:
        return Room(entry.regions, entry.max_caseload - entry.caseload)

    def attributes(self, requested: referral.TaskRequested) -> dict[str, Any]:
        return {
            "region": requested.region,
            "languages": list(requested.languages),
            "is_child": requested.is_child,
        }

    def request_of(self, task: Row) -> model.CaseRequest:
        return model.CaseRequest(
            task_id=task.task_id,
            region=lawyers.region(task.region or ""),
            languages=lawyers.fold(task.languages),
            is_child=task.is_child,
            queued_seq=task.queued_seq,
        )

    def take(self, conn: Connection, entry: model.Lawyer, request: model.CaseRequest) -> Detail:
        lawyers.take(conn, entry.id)
        # Kept on the task and told: translation is part of the minimum assistance.
        return {"interpreter_needed": model.needs_interpreter(entry, request)}

    def given(self, entry: model.Lawyer, request: model.CaseRequest) -> Detail:
        return {"lawyer": entry.name}

    def shown(self, conn: Connection, task: Row) -> dict[str, Any]:
        held = lawyers.directory(conn, lock=False).get(task.lawyer_id or "")
        return {
            "lawyer": None if held is None else held.name,
            "interpreter_needed": task.interpreter_needed,
            "outcome": task.outcome,
        }

    def release(self, conn: Connection, task: Row) -> None:
        lawyers.release(conn, task.lawyer_id)

    def upsert(self, conn: Connection, entry: LawyerEntry) -> bool:
        return lawyers.upsert(conn, entry.name, entry.regions, entry.languages, entry.max_caseload)
