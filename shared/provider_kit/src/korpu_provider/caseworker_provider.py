"""A provider whose directory is caseworkers (`caseworkers`, `caseloads`): every method of
the `Provider` protocol but its line, tables, entries' validator and decision."""

from __future__ import annotations

from typing import Any, ClassVar, Generic, TypeVar

from sqlalchemy.engine import Connection

from korpu_contracts import referral
from korpu_provider import caseloads, caseworkers
from korpu_provider.answers import Detail
from korpu_provider.capacity import FreePlaces
from korpu_provider.tasks import Row, Tasks

W = TypeVar("W", bound=caseworkers.Caseworker)
E = TypeVar("E", bound=caseloads.CaseworkerEntry)


class CaseworkerProvider(Generic[W, E]):
    """A provider whose directory is caseworkers: all of `Provider` but its line, tables,
    entries' validator and `decide`.

    Its tasks keep the coarse attributes a caseworker is chosen by (region, languages,
    is_child), the caseworker (`tasks.holds`), whether an interpreter was needed, and
    the outcome.
    """

    tasks: Tasks
    # The directory in SQL (`caseloads.Caseloads`).
    roster: ClassVar[caseloads.Caseloads[Any]]
    # What an answer calls the caseworker given: `{"lawyer": "R. Aliyev"}`.
    role: ClassVar[str]
    # A case closed frees the caseworker for the next person; time alone frees nobody.
    completion_frees = True
    room_comes_with_time = False
    # A caseworker's caseload cap, in cases; one serving several regions counts in each.
    place_unit = "cases"

    def directory(self, conn: Connection, *, lock: bool) -> dict[str, W]:
        found: dict[str, W] = self.roster.directory(conn, lock=lock)
        return found

    def serves(self, entry: W, request: caseworkers.CaseRequest) -> bool:
        return caseworkers.covers(entry, request)

    def free_places(self, entry: W) -> FreePlaces:
        return FreePlaces(
            entry.regions, entry.max_caseload - entry.caseload, entry.max_caseload, entry.caseload
        )

    def release(self, conn: Connection, task: Row) -> None:
        self.roster.release(conn, task._mapping[self.tasks.holds])

    def directory_view(self, conn: Connection) -> list[dict[str, Any]]:
        return self.roster.view(conn)

    def upsert(self, conn: Connection, entry: E) -> bool:
        return self.roster.upsert(conn, entry)

    def attributes(self, requested: referral.TaskRequested) -> dict[str, Any]:
        return {
            "region": requested.region,
            "languages": list(requested.languages),
            "is_child": requested.is_child,
        }

    def request_of(self, task: Row) -> caseworkers.CaseRequest:
        return caseworkers.CaseRequest(
            task_id=task.task_id,
            region=caseloads.region(task.region or ""),
            languages=caseloads.fold(task.languages),
            is_child=task.is_child,
            queued_seq=task.queued_seq,
        )

    def take(self, conn: Connection, entry: W, request: caseworkers.CaseRequest) -> Detail:
        self.roster.take(conn, entry.id)
        # Kept on the task and told: translation is part of the minimum assistance.
        return {"interpreter_needed": caseworkers.needs_interpreter(entry, request)}

    def given(self, entry: W, request: caseworkers.CaseRequest) -> Detail:
        return {self.role: entry.name}

    def shown(self, conn: Connection, task: Row) -> dict[str, Any]:
        held = self.directory(conn, lock=False).get(task._mapping[self.tasks.holds] or "")
        return {
            self.role: None if held is None else held.name,
            "interpreter_needed": task.interpreter_needed,
            "outcome": task.outcome,
        }
